"""Tests for seq_models.py: the fused models equal plain step-by-step implementations; checkpoints round-trip."""
import pytest
import torch
import torch.nn.functional as F

from lab.common.checkpoints import CheckpointError
from seq_models import LSTM_model, Population, SRN_model, build_model, load_checkpoint, save_checkpoint


def reference_srn(model, x):
    """Elman's equations one step at a time, from the model's weights."""
    w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
    b = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    h = torch.tanh(model.H0).expand(x.shape[0], -1)
    hidden = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ w_ih.T + h @ w_hh.T + b)
        hidden.append(h)
    hidden = torch.stack(hidden, 1)
    return hidden, hidden @ model.out.weight.T + model.out.bias


def reference_lstm(model, x):
    """The LSTM equations one step at a time, each gate from its own slice of torch's stacked weights."""
    n = model.num_hid
    w_ih, w_hh = model.lstm.weight_ih_l0, model.lstm.weight_hh_l0
    b = model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0

    def gate(k, xt, h):
        rows = slice(k * n, (k + 1) * n)
        return xt @ w_ih[rows].T + h @ w_hh[rows].T + b[rows]

    h = torch.zeros(x.shape[0], n)
    c = torch.zeros(x.shape[0], n)
    hs, cs, gates = [], [], []
    for t in range(x.shape[1]):
        xt = x[:, t]
        i = torch.sigmoid(gate(0, xt, h))
        f = torch.sigmoid(gate(1, xt, h))
        g = torch.tanh(gate(2, xt, h))
        o = torch.sigmoid(gate(3, xt, h))
        c = f * c + i * g
        h = o * torch.tanh(c)
        hs.append(h)
        cs.append(c)
        gates.append((i, f, g, o))
    hidden = torch.stack(hs, 1)
    return hidden, hidden @ model.out.weight.T + model.out.bias, torch.stack(cs, 1), gates


def one_hot_batch(batch=3, steps=9, symbols=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, symbols, (batch, steps), generator=gen)
    return torch.nn.functional.one_hot(idx, symbols).float()


def test_srn_matches_step_by_step_reference():
    torch.manual_seed(0)
    model = SRN_model(4, 3, 4)
    model.init_weights(0.7)
    x = one_hot_batch()
    hidden, out = model(x)
    ref_hidden, ref_out = reference_srn(model, x)
    assert hidden.shape == (3, 9, 3) and out.shape == (3, 9, 4)
    torch.testing.assert_close(hidden, ref_hidden, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, ref_out, atol=1e-6, rtol=1e-5)
    # the initial state is tanh(H0) and is learned: gradients reach H0
    out.sum().backward()
    assert model.H0.grad is not None and model.H0.grad.abs().sum() > 0


def test_lstm_matches_step_by_step_reference():
    torch.manual_seed(1)
    model = LSTM_model(4, 3, 4)
    x = one_hot_batch(seed=1)
    hidden, out = model(x)
    ref_hidden, ref_out, ref_cell, ref_gates = reference_lstm(model, x)
    torch.testing.assert_close(hidden, ref_hidden, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, ref_out, atol=1e-6, rtol=1e-5)
    trace = model.trace(x)
    torch.testing.assert_close(trace["hidden"], ref_hidden, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(trace["output"], ref_out, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(trace["context"], ref_cell, atol=1e-6, rtol=1e-5)
    for t, (i, f, g, o) in enumerate(ref_gates):
        torch.testing.assert_close(trace["input_gate"][:, t], i, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(trace["forget_gate"][:, t], f, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(trace["cell_input"][:, t], g, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(trace["output_gate"][:, t], o, atol=1e-6, rtol=1e-5)


def test_srn_trace_gives_hidden_and_initial_state():
    torch.manual_seed(2)
    model = SRN_model(2, 2, 2)
    model.init_weights(0.5)
    x = one_hot_batch(2, 5, 2)
    trace = model.trace(x)
    torch.testing.assert_close(trace["hidden"], model(x)[0])
    torch.testing.assert_close(trace["initial"], torch.tanh(model.H0))


@pytest.mark.parametrize("kind", ["srn", "lstm"])
def test_checkpoint_round_trip(tmp_path, kind):
    config = dict(model=kind, num_input=3, num_hid=3, num_out=3, lang="anb2nc3n", embed=False, length=4)
    torch.manual_seed(3)
    model = build_model(config)
    path = tmp_path / f"anb2nc3n_{kind}3_10.pth"
    save_checkpoint(path, model, config, seen=10000)
    # a plain-data checkpoint: it loads with weights_only=True
    raw = torch.load(path, weights_only=True)
    assert raw["config"] == config and raw["seen"] == 10000
    loaded, ckpt = load_checkpoint(path)
    x = one_hot_batch(2, 6, 3)
    torch.testing.assert_close(loaded(x)[1], model(x)[1])
    assert not list(tmp_path.glob(".tmp-*"))


def test_load_checkpoint_rejects_wrong_shape_and_junk(tmp_path):
    config = dict(model="srn", num_input=2, num_hid=2, num_out=2, lang="anbn", embed=False, length=4)
    model = build_model(config)
    path = tmp_path / "a.pth"
    save_checkpoint(path, model, dict(config, num_hid=3))  # config says 3 units, weights have 2
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(junk)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not a checkpoint of this lab"):
        load_checkpoint(tmp_path / "other.pth")


@pytest.mark.parametrize("field", ["lang", "num_hid", "embed"])
def test_load_checkpoint_names_a_missing_setting(tmp_path, field):
    config = dict(model="srn", num_input=2, num_hid=2, num_out=2, lang="anbn", embed=False, length=4)
    path = tmp_path / "a.pth"
    save_checkpoint(path, build_model(config), {k: v for k, v in config.items() if k != field})
    with pytest.raises(CheckpointError, match=f"missing the setting\\(s\\) {field}"):
        load_checkpoint(path)


def test_load_checkpoint_names_a_setting_of_the_wrong_type(tmp_path):
    config = dict(model="srn", num_input=2, num_hid=2, num_out=2, lang="anbn", embed=False, length=4)
    path = tmp_path / "a.pth"
    save_checkpoint(path, build_model(config), dict(config, num_hid="two"))
    with pytest.raises(CheckpointError, match="config.num_hid is 'two', expected a whole number"):
        load_checkpoint(path)


@pytest.mark.parametrize("kind", ["srn", "lstm"])
def test_population_candidates_train_exactly_as_alone(kind):
    """A fused population of candidates: each one computes and learns as its standalone model would."""
    torch.manual_seed(4)
    pop = Population(kind, 3, 2, 3, size=4)
    if kind == "srn":
        pop.init_weights(0.5)
    alone = [pop.candidate(i) for i in range(4)]
    x = one_hot_batch(3, 8, 3, seed=4)
    target = torch.randint(0, 3, (3, 8), generator=torch.Generator().manual_seed(5))
    _, logits = pop(x)
    assert logits.shape == (3, 8, 4, 3)
    for i, model in enumerate(alone):
        torch.testing.assert_close(model(x)[1], logits[:, :, i], atol=1e-6, rtol=1e-5)
    # one Adam step on the summed losses equals one step of each candidate on its own loss
    opt = torch.optim.Adam(pop.parameters(), lr=0.05)
    loss = sum(F.cross_entropy(logits[:, :, i].reshape(-1, 3), target.reshape(-1)) for i in range(4))
    loss.backward()
    opt.step()
    for i, model in enumerate(alone):
        own = torch.optim.Adam(model.parameters(), lr=0.05)
        F.cross_entropy(model(x)[1].reshape(-1, 3), target.reshape(-1)).backward()
        own.step()
        torch.testing.assert_close(pop.candidate(i)(x)[1], model(x)[1], atol=1e-5, rtol=1e-4)
    # the weights between candidates are still exactly zero
    assert (pop.rnn.weight_hh_l0 * (1 - pop.mask_hh)).abs().max() == 0
    assert (pop.out.weight * (1 - pop.mask_out)).abs().max() == 0
