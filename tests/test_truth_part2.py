"""Part 2 against independent truth: check_main.py's stopping rule, restarts, steps and divergence.

The trainer is documented as torch.optim.Adam (with weight decay 1e-5, L2
added to the gradient) on the binary cross-entropy of the whole data set
each epoch. A run that starts from the hand design (--set_weights, every
weight and bias x10 for sigmoid units) on a data file where that design is
wrong is repeated here with torch's Adam in float64: its accuracy at every
epoch (the forward pass before the epoch's update), its loss lines and its
final weights. The stopping rule in words: stop at the first epoch that
ends 2000 epochs in a row at 100%. The data and learning rate are chosen so
that 100% is reached, lost, and reached again: a rule that counted 2000
epochs in total would stop about 650 epochs earlier. The data are not
symmetric in x1 and x2, so neither are the trained weights.
"""
import json
import re

import numpy as np
import pytest
import torch

import check_main
from lab.check.adam import FullBatchAdam
from conftest import run_command

HOLD = 2000
DESIGN = {  # the hand design of check.py, as written there: H_k on for x1 + x2 >= k - 0.5, out = H1 - H2 + H3 - H4
    "w1": [[1.0, 1.0]] * 4, "b1": [-0.5, -1.5, -2.5, -3.5], "w2": [[1.0, -1.0, 1.0, -1.0]], "b2": [-0.5]}
POINTS = [(x1, x2, (x1 + x2) % 2) for x1 in range(3) for x2 in range(3)]
POINTS[1] = (0, 1, 0)  # the design now misses (0, 1); the data are no longer symmetric in x1 and x2
LR = 0.3


def write_data(path):
    path.write_text("x1,x2,target\n" + "".join(f"{a},{b},{t}\n" for a, b, t in POINTS))
    return str(path)


def run_check(folder, *flags):
    """check_main.py in-process with its plots and record in ``folder``; returns (status, stdout, stderr)."""
    return run_command(check_main.main, [*flags, "--plot-dir", str(folder)])


def record(folder, name):
    return json.loads((folder / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def replica():
    """The training repeated with torch.optim.Adam in float64: per epoch (accuracy, loss) and the weights after."""
    x = torch.tensor([[a, b] for a, b, _ in POINTS], dtype=torch.float64)
    y = torch.tensor([[t] for _, _, t in POINTS], dtype=torch.float64)
    params = [torch.tensor(DESIGN[k], dtype=torch.float64).mul(10).requires_grad_() for k in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    optimizer = torch.optim.Adam(params, lr=LR, weight_decay=1e-5)
    epochs, weights = [], []
    for _ in range(2800):
        out = torch.sigmoid(torch.sigmoid(x @ w1.T + b1) @ w2.T + b2)
        loss = torch.nn.functional.binary_cross_entropy(out, y)
        epochs.append((bool(((out >= 0.5).double() == y).all()), loss.item()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        weights.append([p.detach().clone() for p in params])
    return epochs, weights


def held_in_a_row(right):
    """The rule in words: the first epoch (1-based) that ends HOLD epochs in a row at 100%."""
    run = 0
    for epoch, ok in enumerate(right, start=1):
        run = run + 1 if ok else 0
        if run == HOLD:
            return epoch
    return None


def held_in_total(right):
    """What a rule counting in total would give."""
    return next((epoch for epoch in range(1, len(right) + 1) if sum(right[:epoch]) == HOLD), None)


def test_the_stop_comes_after_2000_epochs_in_a_row_at_100_percent(replica, tmp_path):
    epochs, weights = replica
    right = [ok for ok, _ in epochs]
    stop = held_in_a_row(right)
    assert stop and held_in_total(right) < stop - 100 and right[right.index(True):stop].count(False) > 0  # premise
    flags = ["--act", "sig", "--hid", "4", "--set_weights", "--lr", str(LR), "--restarts", "0",
             "--data", write_data(tmp_path / "data.csv")]
    status, out, err = run_check(tmp_path / "held", *flags, "--epoch", str(stop + 100))
    assert status == 0, err
    assert f"Stopped at epoch {stop}: 100% accuracy held for 2000 epochs (restarts: 0" in out
    results = record(tmp_path / "held", "check_sig_4_set")["results"]
    assert results["epochs"] == stop and results["reached"] is True and results["accuracy"] == 100.0
    assert results["initial_accuracy"] == pytest.approx(100 * 8 / 9, abs=0.01)
    final = weights[stop - 1]
    got = results["weights"]
    for name, want in zip(("in_hid.weight", "in_hid.bias", "hid_out.weight", "hid_out.bias"), final):
        np.testing.assert_allclose(np.array(got[name]), want.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)
    progress = re.findall(r"^ep:\s*(\d+) loss: ([\d.]+) acc: ([\d.]+)$", out, re.M)
    assert len(progress) == stop // 100
    for epoch, loss, acc in progress:
        ok, want_loss = epochs[int(epoch) - 1]  # the forward pass of that epoch, before its update
        assert float(loss) == pytest.approx(want_loss, abs=6e-5) and (float(acc) == 100.0) == ok, epoch
    w1, b1 = final[0].numpy(), final[1].numpy()
    assert np.abs(w1[:, 0] - w1[:, 1]).min() > 0.01  # the premise: a line that swapped x1 and x2 would differ
    lines = [f"H{k + 1}: {w1[k, 0]:.2f}*x1 {'-' if w1[k, 1] < 0 else '+'} {abs(w1[k, 1]):.2f}*x2 "
             f"{'-' if b1[k] < 0 else '+'} {abs(b1[k]):.2f} = 0" for k in range(4)]
    assert results["dividing_lines"] == lines
    x = np.array([[a, b] for a, b, _ in POINTS], dtype=np.float64)
    hidden = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    output = 1 / (1 + np.exp(-(hidden @ final[2].numpy().T + final[3].numpy())))
    table = results["activation_table"].splitlines()
    assert table[0].split() == ["x1", "x2", "H1", "H2", "H3", "H4", "out", "target"]
    for line, point, h, o in zip(table[1:], POINTS, hidden, output[:, 0]):
        assert line.split() == [f"{point[0]:.2f}", f"{point[1]:.2f}", *[f"{v:.3f}" for v in h], f"{o:.3f}",
                                str(point[2])]

    # one epoch less: 1999 in a row is not enough
    status, out, err = run_check(tmp_path / "short", *flags, "--epoch", str(stop - 1))
    assert status == 0, err
    assert f"Stopped at epoch {stop - 1}: the most (--epoch), without holding 100%" in out
    results = record(tmp_path / "short", "check_sig_4_set")["results"]
    assert results["epochs"] == stop - 1 and results["reached"] is False


def test_restarts_come_after_patience_epochs_without_progress(tmp_path):
    """lr 1e-9: the loss never drops; the first loss line (epoch 100) is the best there is, so with --patience 200
    the run restarts at epoch 300, and again 300 epochs later; --restarts caps the count."""
    status, out, err = run_check(tmp_path / "a", "--hid", "1", "--lr", "1e-9", "--epoch", "700", "--patience", "200",
                             "--restarts", "2")
    assert status == 0, err
    lines = out.splitlines()
    restarts = [i for i, line in enumerate(lines) if line.startswith("no progress for")]
    assert [lines[i - 1].split()[0:2] for i in restarts] == [["ep:", "300"], ["ep:", "600"]]
    assert "restart 2 of at most 2" in lines[restarts[1]] and "no progress for 200 epochs" in lines[restarts[0]]
    results = record(tmp_path / "a", "check_sig_1")["results"]
    assert results["restarts"] == 2 and results["epochs"] == 700 and results["reached"] is False
    status, out, err = run_check(tmp_path / "b", "--hid", "1", "--lr", "1e-9", "--epoch", "700", "--patience", "100",
                             "--restarts", "1")
    assert status == 0, err
    lines = out.splitlines()
    restarts = [i for i, line in enumerate(lines) if line.startswith("no progress for")]
    assert [lines[i - 1].split()[0:2] for i in restarts] == [["ep:", "200"]]
    assert record(tmp_path / "b", "check_sig_1")["results"]["restarts"] == 1


def test_init_scales_the_initial_weights_and_seed_draws_others(tmp_path):
    """One epoch at lr 1e-9 keeps the drawn weights: --init 0.6 gives 4 times those of 0.15; --seed 1 others."""
    weights = {}
    for name, flags in (("base", []), ("wide", ["--init", "0.6"]), ("seed", ["--seed", "1"])):
        status, _, err = run_check(tmp_path / name, "--hid", "2", "--epoch", "1", "--lr", "1e-9", *flags)
        assert status == 0, err
        weights[name] = record(tmp_path / name, "check_sig_2")["results"]["weights"]
    for name, value in weights["base"].items():
        np.testing.assert_allclose(np.array(weights["wide"][name]), 4 * np.array(value), rtol=1e-6, err_msg=name)
        assert not np.allclose(weights["seed"][name], value)


def test_weights_beyond_float32_are_a_divergence_though_the_loss_stays_finite(tmp_path, monkeypatch):
    """Fault injection: a weight becomes 1e39 at epoch 50, finite in float64 but beyond float32's 3.4e38, while the
    saturated sigmoids keep the loss finite. (Adam moves a weight by about --lr per epoch and --lr is at most
    3.4e38, so the command line alone does not get there.) The command stops at the next loss line, with a
    sentence, and writes no plots and no record."""
    step = FullBatchAdam.step

    def faulty(self):
        held = step(self)
        if self.steps == 50:
            self.theta[0] = 1e39
        return held

    monkeypatch.setattr(FullBatchAdam, "step", faulty)
    status, out, err = run_check(tmp_path / "plots", "--hid", "2", "--epoch", "300")
    assert status == 1 and "diverged at epoch 100" in err and "smaller --lr" in err and "Traceback" not in err
    assert "ep:" not in out and "Final Weights" not in out
    assert not list((tmp_path / "plots").glob("*"))
