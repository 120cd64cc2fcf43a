"""Part 1 against independent truth: kuzu_main.py's record, printed lines and checkpoints, recomputed by hand.

The runs train NetLin on a noisy synthetic KMNIST (300 training, 100 test
images) with the whole training set as one batch and a constant learning
rate, so that every epoch is one SGD step whose result can be computed by
hand: the network's outputs come from the saved weights (logits = x W^T + b,
pixels normalised as (p/255 - 0.5)/0.5), the gradient of the mean negative
log-likelihood from its textbook formula, and the step from torch.optim.SGD's
documented update (v = g at the first step, then v = mom*v + g; w -= lr*v;
Nesterov: w -= lr*(g + mom*v)). One run with a learning rate of 1e-30 leaves
the weights as they were drawn: W0, the start of every run with the same seed.

The weights after each epoch are caught at the printed line that starts the
next epoch (the checkpoint of --save is then that epoch's), and a run is
interrupted in-process (KeyboardInterrupt at a printed line, as Ctrl-C there)
to resume it. The uninterrupted run has three epochs whose accuracy and loss
all differ, and is resumed after the first, so that first and last, before
and after a resume, are told apart.
"""
import json
import os
import re
import shutil

import numpy as np
import pytest
import torch

import kuzu_main
from conftest import make_noisy_kmnist, run_command

TRAIN, TEST = 300, 100
LR, MOM = 0.05, 0.9
CLASSES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]  # KMNIST's published class order
PAIR = re.compile(r"(\w+) -> (\w+): (\d+)")


# ------------------------------------------------------------------------------------------------ hand computations

def pixels(images):
    """uint8 (N, 28, 28) -> (N, 784) float64 with the course's normalisation, row by row."""
    return (np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0 - 0.5) / 0.5


def weights(path):
    """NetLin's weight and bias from a checkpoint, as float64 numpy arrays."""
    state = torch.load(path, weights_only=True)["state_dict"]
    return state["out.weight"].double().numpy(), state["out.bias"].double().numpy()


def log_probabilities(wb, images):
    """log softmax(x W^T + b) per image."""
    logits = pixels(images) @ wb[0].T + wb[1]
    logits = logits - logits.max(1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(1, keepdims=True))


def mean_nll(wb, images, labels):
    """The mean negative log-likelihood of the labels."""
    return float(-log_probabilities(wb, images)[np.arange(len(labels)), labels].mean())


def gradient(wb, images, labels):
    """d mean NLL / d (W, b): with d = (softmax - one-hot) / N per image, (d^T x, sum of d)."""
    d = np.exp(log_probabilities(wb, images))
    d[np.arange(len(labels)), labels] -= 1.0
    d /= len(labels)
    return d.T @ pixels(images), d.sum(0)


def confusion(wb, images, labels):
    """10x10 counts: row the true class, column the network's choice (the largest output)."""
    chosen = log_probabilities(wb, images).argmax(1)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (labels.astype(int), chosen), 1)
    return matrix


def check_pairs(pairs, matrix):
    """Most-confused pairs (true, chosen, count): off-diagonal cells of ``matrix`` read row -> column, the largest.

    Ties may come in any order, so the counts are compared as the three largest off-diagonal values.
    """
    for true, chosen, count in pairs:
        assert true != chosen and matrix[CLASSES.index(true), CLASSES.index(chosen)] == count, (true, chosen, count)
    off = sorted((matrix - np.diag(np.diag(matrix))).ravel().tolist(), reverse=True)[:3]
    assert [count for _, _, count in pairs] == off


def printed_matrices(out):
    """Every confusion matrix the run printed, as integer arrays."""
    blocks = re.findall(r"^\[\[.*?\]\]$", out, re.M | re.S)
    return [np.array([[float(v) for v in row.strip(" []").split()] for row in block.splitlines()]).astype(int)
            for block in blocks]


# ------------------------------------------------------------------------------------------------------ the runs

@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """(data folder, train images, train labels, test images, test labels) of the noisy synthetic KMNIST."""
    root = tmp_path_factory.mktemp("noisy")
    arrays = make_noisy_kmnist(str(root), TRAIN, TEST)
    return (str(root), *arrays)


def kuzu(data, folder, *flags, on_line=None):
    """kuzu_main.py in-process for NetLin on the noisy data; returns (status, stdout, stderr)."""
    return run_command(kuzu_main.main, ["--net", "lin", "--data", data[0], "--no-download", "--device", "cpu",
                                        "--plot-dir", str(folder), *flags], on_line)


def catch(copies=None, stop_at=None):
    """An on_line hook: copy files when a line starts with a key of ``copies``; Ctrl-C at a line starting ``stop_at``."""
    def hook(line):
        for start, (source, target) in (copies or {}).items():
            if line.startswith(start):
                shutil.copyfile(source, target)
        if stop_at and line.startswith(stop_at):
            raise KeyboardInterrupt
    return hook


def full_batch(epochs, *extra):
    """One SGD step per epoch: the whole training set as the batch, a constant learning rate."""
    return ["--epochs", str(epochs), "--batch-size", str(TRAIN), "--lr", str(LR), "--schedule", "const", *extra]


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """W0; an uninterrupted 3-epoch run; the same run interrupted after epoch 1 and resumed (weights of each epoch)."""
    base = tmp_path_factory.mktemp("part1")
    status, start_out, err = kuzu(data, base / "start", "--epochs", "1", "--lr", "1e-30", "--batch-size", "100",
                                  "--save", str(base / "start" / "lin.pth"))
    assert status == 0, err
    flags = full_batch(3, "--mom", str(MOM))
    status, whole_out, err = kuzu(data, base / "whole", *flags, "--save", str(base / "whole" / "lin.pth"))
    assert status == 0, err
    part = base / "part" / "lin.pth"
    status, _, err = kuzu(data, base / "part", *flags, "--save", str(part),
                          on_line=catch({"Train Epoch: 2": (part, base / "w1.pth")}, stop_at="Train Epoch: 2"))
    assert status == 130 and "interrupted" in err and not os.path.exists(str(part) + ".lock")
    status, resumed_out, err = kuzu(data, base / "part", *flags, "--save", str(part), "--resume",
                                    on_line=catch({"Train Epoch: 3": (part, base / "w2.pth")}))
    assert status == 0, err
    record = lambda folder: json.loads((base / folder / "kuzu_lin.json").read_text())
    saved = [base / "start" / "lin.pth", base / "w1.pth", base / "w2.pth", base / "whole" / "lin.pth"]
    return {"base": base, "start": record("start"), "start_out": start_out, "whole": record("whole"),
            "whole_out": whole_out, "resumed": record("part"), "resumed_out": resumed_out,
            "W": [weights(path) for path in saved],
            "optimizer": [torch.load(path, weights_only=True)["resume"]["optimizer"] for path in saved[1:3]]}


# ------------------------------------------------------------------------------------------------------ the tests

def test_the_runs_differ_between_first_and_last_epoch(runs):
    epochs = runs["whole"]["results"]["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert epochs[0]["accuracy"] != epochs[-1]["accuracy"] and epochs[0]["train_loss"] != epochs[-1]["train_loss"]
    assert epochs[0]["test_loss"] != epochs[-1]["test_loss"] and epochs[-1]["train_loss"] != epochs[-1]["test_loss"]


def test_every_sgd_step_is_the_hand_computed_momentum_update(runs, data):
    """W1, W2 (after the resume) and W3 from W0 by v = g, then v = mom*v + g; w -= lr*v."""
    _, images, labels, _, _ = data
    w, velocity = runs["W"], None
    for epoch in range(3):
        g = gradient(w[epoch], images, labels)
        velocity = g if velocity is None else tuple(MOM * v + gi for v, gi in zip(velocity, g))
        expected = tuple(p - LR * v for p, v in zip(w[epoch], velocity))
        for got, want in zip(w[epoch + 1], expected):
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-6, err_msg=f"epoch {epoch + 1}")
    buffers = [[state["momentum_buffer"].double().numpy() for state in opt["state"].values()]
               for opt in runs["optimizer"]]
    np.testing.assert_allclose(buffers[0][0], gradient(w[0], images, labels)[0], atol=1e-6)  # v after step 1 = g0


def test_each_epochs_record_is_the_networks_own_losses_and_counts(runs, data):
    """train_loss: the full batch before the epoch's step; test loss and counts: the network after it."""
    _, images, labels, test_images, test_labels = data
    w = runs["W"]
    for epoch in runs["whole"]["results"]["epochs"]:
        e = epoch["epoch"]
        assert epoch["train_loss"] == pytest.approx(mean_nll(w[e - 1], images, labels), rel=1e-5)
        assert epoch["test_loss"] == pytest.approx(mean_nll(w[e], test_images, test_labels), rel=1e-5)
        right = int(np.trace(confusion(w[e], test_images, test_labels)))
        assert epoch["correct"] == right and epoch["accuracy"] == pytest.approx(100.0 * right / TEST)


def test_the_records_summary_is_the_last_networks(runs, data):
    _, _, _, test_images, test_labels = data
    r = runs["whole"]["results"]
    matrix = confusion(runs["W"][3], test_images, test_labels)
    assert r["confusion"] == matrix.tolist() and r["classes"] == CLASSES
    assert r["correct"] == int(np.trace(matrix)) and r["test_images"] == TEST
    assert r["accuracy"] == pytest.approx(100.0 * np.trace(matrix) / TEST)
    check_pairs([(p["true"], p["chosen"], p["count"]) for p in r["most_confused"]], matrix)
    assert r["parameters"] == 784 * 10 + 10 == sum(v.size for v in runs["W"][3])
    assert r["arithmetic"] == ["out: 784*10+10 = 7,850", "total = 7,850"]
    times = sum(e["train_s"] + e["test_s"] for e in r["epochs"])
    assert runs["whole"]["wall_time_s"] >= times > 0


def test_the_printed_lines_are_the_networks(runs, data):
    """Each epoch's loss line, matrix and test line, then the summary lines, from the weights by hand."""
    _, images, labels, test_images, test_labels = data
    out, w = runs["whole_out"], runs["W"]
    matrices = printed_matrices(out)
    assert len(matrices) == 3
    for e in (1, 2, 3):
        loss = mean_nll(w[e - 1], images, labels)
        line = re.search(rf"^Train Epoch: {e} \[0/{TRAIN} \(0%\)\]\tLoss: ([\d.]+)$", out, re.M)
        assert float(line.group(1)) == pytest.approx(loss, abs=2e-6)
        matrix = confusion(w[e], test_images, test_labels)
        np.testing.assert_array_equal(matrices[e - 1], matrix)
        right = int(np.trace(matrix))
        expected = (f"Test set: Average loss: {mean_nll(w[e], test_images, test_labels):.4f}, "
                    f"Accuracy: {right}/{TEST} ({100 * right / TEST:.0f}%)")
        assert expected in out
    summary = re.search(r"^Most confused \(true -> chosen\): (.*)$", out, re.M).group(1)
    check_pairs([(t, c, int(n)) for t, c, n in PAIR.findall(summary)], matrices[-1])
    assert f"Test accuracy: {100 * np.trace(matrices[-1]) / TEST:.2f}%" in out and "Parameters: 7,850" in out


def test_train_loss_is_the_mean_over_equal_batches(runs, data):
    """With lr 1e-30 nothing moves: three batches of 100 average to the loss over all 300 images."""
    _, images, labels, test_images, test_labels = data
    epoch = runs["start"]["results"]["epochs"][0]
    assert epoch["train_loss"] == pytest.approx(mean_nll(runs["W"][0], images, labels), rel=1e-5)
    assert epoch["test_loss"] == pytest.approx(mean_nll(runs["W"][0], test_images, test_labels), rel=1e-5)
    check_pairs([(p["true"], p["chosen"], p["count"]) for p in runs["start"]["results"]["most_confused"]],
                confusion(runs["W"][0], test_images, test_labels))


def test_the_resumed_record_equals_the_uninterrupted_one(runs):
    """Field by field, times, the folders and the --resume flag aside."""
    whole, resumed = runs["whole"], runs["resumed"]
    assert "resuming from" in runs["resumed_out"] and runs["resumed_out"].count("Test set:") == 2
    untimed = lambda epochs: [{k: v for k, v in e.items() if k not in ("train_s", "test_s")} for e in epochs]
    assert untimed(resumed["results"]["epochs"]) == untimed(whole["results"]["epochs"])
    assert set(resumed["results"]) == set(whole["results"])
    for key in whole["results"]:
        if key != "epochs":
            assert resumed["results"][key] == whole["results"][key], key
    settings = lambda r: {k: v for k, v in r["settings"].items() if k not in ("resume", "save", "plot_dir")}
    assert settings(resumed) == settings(whole) and resumed["settings"]["resume"] is True
    names = lambda r: [os.path.basename(p) for p in r["files"]]
    assert names(resumed) == names(whole) and resumed["seed"] == whole["seed"]
    assert set(resumed) == set(whole)


@pytest.mark.parametrize("variant", ["no momentum", "nesterov", "cosine"])
def test_other_optimiser_settings_take_the_hand_computed_steps(variant, runs, data, tmp_path):
    """--mom 0, --nesterov and --schedule cosine over two full-batch steps from W0, by hand."""
    _, images, labels, _, _ = data
    extra = {"no momentum": ["--mom", "0"], "nesterov": ["--mom", str(MOM), "--nesterov"],
             "cosine": ["--mom", "0", "--schedule", "cosine"]}[variant]
    flags = full_batch(2)
    flags = flags[:-2] + extra if variant == "cosine" else flags + extra  # cosine replaces const
    save = tmp_path / "run.pth"
    status, _, err = kuzu(data, tmp_path, *flags, "--save", str(save),
                          on_line=catch({"Train Epoch: 2": (save, tmp_path / "w1.pth")}, stop_at="Most confused"))
    assert status == 130, err
    got = [weights(tmp_path / "w1.pth"), weights(save)]
    w, velocity = runs["W"][0], None
    rates = [LR, LR / 2] if variant == "cosine" else [LR, LR]  # cosine over 2 steps: lr*(1 + cos(pi*t/2))/2
    mom = MOM if variant == "nesterov" else 0.0
    for step in range(2):
        g = gradient(w, images, labels)
        velocity = g if velocity is None else tuple(mom * v + gi for v, gi in zip(velocity, g))
        move = tuple(gi + mom * v for gi, v in zip(g, velocity)) if variant == "nesterov" else velocity
        w = tuple(p - rates[step] * m for p, m in zip(w, move))
        for have, want in zip(got[step], w):
            np.testing.assert_allclose(have, want, rtol=0, atol=2e-6, err_msg=f"{variant}, step {step + 1}")


def test_a_second_run_on_the_same_checkpoint_is_refused_while_the_first_runs(data, tmp_path):
    """kuzu_main.py --save holds a lock, as seq_train.py does for its series: a run started meanwhile is refused;
    the lock goes with the first run (here stopped by Ctrl-C)."""
    save = tmp_path / "lin.pth"
    inner = {}

    def second_run(line):
        if line.startswith("Train Epoch: 1") and not inner:
            inner["result"] = kuzu(data, tmp_path / "other", *full_batch(1), "--save", str(save))
        if line.startswith("Most confused"):
            raise KeyboardInterrupt
    status, _, err = kuzu(data, tmp_path / "first", *full_batch(1), "--save", str(save), on_line=second_run)
    assert status == 130, err
    inner_status, inner_out, inner_err = inner["result"]
    assert inner_status == 1 and "another run is writing" in inner_err and f"{save}.lock" in inner_err
    assert "Train Epoch" not in inner_out and not (tmp_path / "other").exists()
    assert sorted(os.listdir(tmp_path)) == ["first", "lin.pth"]  # the lock is gone with the first run
