"""Part 2 against hand computations: the parity design, dividing lines, Adam, and what the plots show."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import check
from lab.check.adam import FullBatchAdam
from lab.check.data import load_data
from lab.check.plots import plot_unit
from lab.check.readouts import accuracy, activations, dividing_lines
from lab.check.settings import Settings
from lab.check.training import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data", "check.csv")
GRID = [(a, b) for a in (0, 1, 2) for b in (0, 1, 2)]


def data():
    return load_data(DATA)


def test_check_data_targets_are_the_parity_of_x1_plus_x2():
    x, y = data()
    assert sorted(map(tuple, x.tolist())) == [(float(a), float(b)) for a, b in GRID]
    for (a, b), t in zip(x.tolist(), y[:, 0].tolist()):
        assert t == (int(a) + int(b)) % 2


def test_hand_design_with_step_units_classifies_every_point():
    x, y = data()
    net = check.MLP(4, "step")
    net.set_weights()
    with torch.no_grad():
        out = net(x)
    for i, (a, b) in enumerate(x.tolist()):
        s = a + b
        # by hand: hidden unit k is on when s >= k - 1/2; the output is H1 - H2 + H3 - H4 - 1/2 >= 0
        hidden = [1.0 if s >= k - 0.5 else 0.0 for k in (1, 2, 3, 4)]
        expected_out = 1.0 if hidden[0] - hidden[1] + hidden[2] - hidden[3] - 0.5 >= 0 else 0.0
        assert expected_out == (int(a) + int(b)) % 2  # the design computes parity
        assert net.hid[i].tolist() == hidden, (a, b)
        assert out[i, 0].item() == expected_out, (a, b)
    assert accuracy(net, x, y) == 100.0


def test_hand_design_with_sigmoid_units_is_on_the_right_side_of_one_half():
    x, y = data()
    net = check.MLP(4, "sig")
    net.set_weights()
    with torch.no_grad():
        out = net(x)[:, 0]
    for (a, b), o in zip(x.tolist(), out.tolist()):
        parity = (int(a) + int(b)) % 2
        assert (o > 0.9) if parity else (o < 0.1), (a, b, o)
    # the weights are the design times 10: the first hidden unit is sigmoid(10*(x1+x2) - 5)
    h = net.hid[:, 0]
    s = x.sum(1)
    assert torch.allclose(h, 1 / (1 + torch.exp(-(10 * s - 5))), atol=1e-6)


def test_step_unit_is_on_at_exactly_zero():
    z = torch.tensor([-1e-6, 0.0, 1e-6, -3.0, 2.0])
    assert check.heaviside(z).tolist() == [0.0, 1.0, 1.0, 0.0, 1.0]


def hand_net(rows, biases, out_w=None, out_b=-0.5, act="step"):
    net = check.MLP(len(rows), act)
    net.set_weights({"in_hid.weight": rows, "in_hid.bias": biases,
                     "hid_out.weight": [out_w or [0.0] * len(rows)], "hid_out.bias": [out_b], "sig_factor": 1.0})
    return net


def test_dividing_lines_read_w1_x1_plus_w2_x2_plus_b_equals_zero():
    net = hand_net([[-1.5, 2.25], [0.0, -0.75], [3.0, 1.0]], [0.75, 2.0, -4.5])
    assert dividing_lines(net) == [
        "H1: -1.50*x1 + 2.25*x2 + 0.75 = 0",
        "H2: 0.00*x1 - 0.75*x2 + 2.00 = 0",
        "H3: 3.00*x1 + 1.00*x2 - 4.50 = 0",
    ]
    assert dividing_lines(hand_net([[1.0, 0.0]], [0.0])) == ["H1: 1.00*x1 + 0.00*x2 + 0.00 = 0"]


def test_an_output_of_exactly_one_half_counts_as_1():
    x, y = data()
    net = hand_net([[0.0, 0.0]] * 2, [0.0, 0.0], out_b=0.0, act="sig")  # every unit's input is 0: outputs 0.5
    assert accuracy(net, x, y) == round(100 * 4 / 9, 2)  # the 4 points with target 1
    assert FullBatchAdam(net, x, torch.ones_like(y)).step()


def test_activations_are_inputs_hidden_units_output_then_target():
    x, y = data()
    net = hand_net([[1.0, 0.0], [0.0, 1.0]], [-0.5, -1.5], out_w=[0.0, 0.0], out_b=-0.5)  # output always 0
    rows = activations(net, x, y)
    assert rows[x.tolist().index([1.0, 2.0])] == [1.0, 2.0, 1.0, 1.0, 0.0, 1.0]
    assert rows[x.tolist().index([0.0, 1.0])] == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]


def test_a_run_at_100_percent_is_not_restarted_however_slowly_its_loss_falls():
    x, y = data()
    net = check.MLP(4, "sig")
    net.set_weights()  # the hand design, 100% from the first epoch
    design = [p.detach().clone() for p in net.parameters()]
    settings = Settings(epoch=1000, lr=1e-9, restarts=2, patience=100)  # no progress at this rate
    assert train(settings, net, x, y, log=lambda *args: None) == (1000, 0, False)  # 100% held, but not 2000 epochs
    assert all(torch.allclose(p, d) for p, d in zip(net.parameters(), design))


# ---------------------------------------------------------------- Adam
def reference_adam(params, x, y, lr, weight_decay, steps, betas=(0.9, 0.999), eps=1e-8):
    """Adam from Kingma & Ba (2015), Algorithm 1, in numpy; L2 weight decay added to the gradient.

    The gradient of the mean binary cross-entropy comes from torch's autograd in float64.
    Returns the parameters after each step.
    """
    b1, b2 = betas
    theta = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in theta]
    v = [np.zeros_like(p) for p in theta]
    history = []
    for t in range(1, steps + 1):
        tensors = [torch.tensor(p, requires_grad=True) for p in theta]
        w1, c1, w2, c2 = tensors
        hid = torch.sigmoid(x @ w1.T + c1)
        out = torch.sigmoid(hid @ w2.T + c2)
        F.binary_cross_entropy(out, y).backward()
        for i, p in enumerate(tensors):
            g = p.grad.numpy() + weight_decay * theta[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat = m[i] / (1 - b1 ** t)
            v_hat = v[i] / (1 - b2 ** t)
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([p.copy() for p in theta])
    return history


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_full_batch_adam_first_three_steps_equal_the_published_update(weight_decay):
    x, y = data()
    torch.manual_seed(0)
    net = check.MLP(3, "sig")
    net.init_weights(0.7)
    start = [p.detach().double().numpy().copy() for p in net.parameters()]
    lr = 0.05
    trainer = FullBatchAdam(net, x, y, lr=lr, weight_decay=weight_decay)
    expected = reference_adam(start, x.double(), y.double(), lr, weight_decay, 3)
    copy = check.MLP(3, "sig")
    for step in range(3):
        trainer.step()
        trainer.write_to(copy)
        got = [p.detach().double().numpy() for p in copy.parameters()]
        for g, e, s in zip(got, expected[step], start):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6, err_msg=f"step {step + 1}")
    # with bias correction every first step moves each parameter by about lr
    trainer = FullBatchAdam(net, x, y, lr=lr, weight_decay=weight_decay)
    trainer.step()
    trainer.write_to(copy)
    moved = np.concatenate([(p.detach().double().numpy() - s).ravel() for p, s in zip(copy.parameters(), start)])
    np.testing.assert_allclose(np.abs(moved), lr, rtol=1e-3)


def test_full_batch_adam_loss_is_the_binary_cross_entropy_of_its_forward_pass():
    x, y = data()
    torch.manual_seed(1)
    net = check.MLP(2, "sig")
    net.init_weights(0.5)
    w1, c1, w2, c2 = (p.detach().double().numpy() for p in net.parameters())
    xs, ys = x.double().numpy(), y.double().numpy()[:, 0]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    out = sig(sig(xs @ w1.T + c1) @ w2[0] + c2[0])
    bce = -np.mean(ys * np.log(out) + (1 - ys) * np.log(1 - out))
    trainer = FullBatchAdam(net, x, y, lr=0.01)
    right = trainer.step()
    assert trainer.loss() == pytest.approx(bce, rel=1e-9)
    assert trainer.accuracy() == pytest.approx(100 * np.mean((out >= 0.5) == (ys >= 0.5)))
    assert right == bool(np.all((out >= 0.5) == (ys >= 0.5)))


# ---------------------------------------------------------------- what the plots show
def grey_mask(path):
    """Pixels of the plot's flat grey fill: the most common grey that is neither white nor black."""
    import matplotlib.image

    rgb = matplotlib.image.imread(path)[..., :3].astype(float)
    value = rgb.mean(-1)
    greyish = (np.ptp(rgb, axis=-1) < 0.02) & (value > 0.3) & (value < 0.95)
    levels, counts = np.unique(np.round(value[greyish], 2), return_counts=True)
    fill = levels[counts.argmax()]
    return greyish & (np.abs(value - fill) < 0.015), value


def bbox(mask):
    rows = np.nonzero(mask.sum(1) > 0.3 * mask.sum(1).max())[0]
    cols = np.nonzero(mask.sum(0) > 0.3 * mask.sum(0).max())[0]
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.fixture
def unit_plots(tmp_path, no_display):
    """Four hidden step units with known regions, and the output copying the first, plotted to PNG files.

    The data span 0..2 on both axes and the plots add a margin of 0.5, so x1 >= 1
    is the right half of the axes and x2 >= 1 the top half.
    """
    x, y = data()
    net = hand_net([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], [0.0, -1.0, -1.0, 1.0],
                   out_w=[0.0, 1.0, 0.0, 0.0], out_b=-0.5)
    paths = {}
    for name, hidden in (("all", 0), ("right", 1), ("top", 2), ("left", 3), ("output", None)):
        paths[name] = plot_unit(net, x, y, str(tmp_path / f"{name}.png"), hidden=hidden, title=name)
    return paths


def test_plot_unit_greys_the_region_where_the_unit_is_on(unit_plots):
    full, _ = grey_mask(unit_plots["all"])
    top0, bottom0, left0, right0 = bbox(full)
    assert bottom0 - top0 > 150 and right0 - left0 > 150  # the whole axes area is grey
    mid_col, mid_row = (left0 + right0) / 2, (top0 + bottom0) / 2
    tol = 6

    def region(name):
        mask, value = grey_mask(unit_plots[name])
        box = bbox(mask)
        inside = value[top0:bottom0 + 1, left0:right0 + 1]
        half_w, half_h = inside.shape[1] // 2, inside.shape[0] // 2
        darkness = {"left": inside[:, :half_w].mean(), "right": inside[:, -half_w:].mean(),
                    "top": inside[:half_h].mean(), "bottom": inside[-half_h:].mean()}
        return box, darkness

    (t, b, l, r), d = region("right")  # on where x1 >= 1
    assert abs(l - mid_col) < tol and abs(r - right0) < tol and abs(t - top0) < tol and abs(b - bottom0) < tol
    assert d["right"] < d["left"] - 0.1  # right half darker than the left
    assert abs(d["top"] - d["bottom"]) < 0.05

    (t, b, l, r), d = region("left")  # on where x1 <= 1
    assert abs(l - left0) < tol and abs(r - mid_col) < tol and abs(t - top0) < tol and abs(b - bottom0) < tol
    assert d["left"] < d["right"] - 0.1

    (t, b, l, r), d = region("top")  # on where x2 >= 1: the upper half of the picture (image rows grow downwards)
    assert abs(t - top0) < tol and abs(b - mid_row) < tol and abs(l - left0) < tol and abs(r - right0) < tol
    assert d["top"] < d["bottom"] - 0.1
    assert abs(d["left"] - d["right"]) < 0.05

    (t, b, l, r), d = region("output")  # the output copies the x1 >= 1 unit
    assert abs(l - mid_col) < tol and abs(r - right0) < tol
    assert d["right"] < d["left"] - 0.1
