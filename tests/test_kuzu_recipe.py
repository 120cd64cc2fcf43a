"""Part 1's extra training steps against hand computations: label smoothing, weight decay, weight averaging,
test-time views, cutout.

As in test_truth_part1.py, NetLin trains on a noisy synthetic KMNIST with the
whole training set as one batch and a constant learning rate, so each epoch
is one SGD step that numpy can repeat: the smoothed loss's gradient is
softmax minus the smoothed target (the target puts 1 - s on the label and
s/10 on every class); the average after step t is d*avg + (1-d)*w with
d = min(decay, (1+t)/(10+t)); a test prediction over views is the mean of the
softmax over the image and its four one-pixel moves, the uncovered edge black.
"""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.characters.kmnist import Batches, erase_squares
from lab.characters.training import averaged_output, smoothed_nll
from conftest import make_noisy_kmnist
from test_truth_part1 import LR, TEST, TRAIN, catch, full_batch, kuzu, log_probabilities, pixels, weights


def smoothed_gradient(wb, images, labels, smoothing):
    """d mean smoothed loss / d (W, b): per image (softmax - target) / N with target (1-s)*one-hot + s/10."""
    target = np.full((len(labels), 10), smoothing / 10)
    target[np.arange(len(labels)), labels] += 1 - smoothing
    d = (np.exp(log_probabilities(wb, images)) - target) / len(labels)
    return d.T @ pixels(images), d.sum(0)


def sgd_step(wb, gradient):
    return tuple(p - LR * g for p, g in zip(wb, gradient))


def moved(images, down, right):
    """uint8 images moved ``down`` and ``right`` by one pixel or none, the uncovered edge black (0)."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(down, 0):h + min(down, 0), max(right, 0):w + min(right, 0)] = \
        images[:, max(-down, 0):h + min(-down, 0), max(-right, 0):w + min(-right, 0)]
    return out


def accuracy(wb, images, labels):
    return 100.0 * np.mean(log_probabilities(wb, images).argmax(1) == labels)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """(data folder, train images, train labels, test images, test labels): the noisy synthetic KMNIST."""
    root = tmp_path_factory.mktemp("noisy")
    return (str(root), *make_noisy_kmnist(str(root), TRAIN, TEST))


@pytest.fixture(scope="module")
def w0(data, tmp_path_factory):
    """The weights every seed-1 run starts from (a run with a learning rate of 1e-30 leaves them as drawn)."""
    folder = tmp_path_factory.mktemp("w0")
    status, _, err = kuzu(data, folder, "--epochs", "1", "--lr", "1e-30", "--save", str(folder / "lin.pth"))
    assert status == 0, err
    return weights(folder / "lin.pth")


def run_lin(data, folder, *flags):
    """A full-batch NetLin run with momentum 0 and --save; returns (record, stdout, checkpoint)."""
    status, out, err = kuzu(data, folder, *full_batch(*flags[:1]), "--mom", "0", *flags[1:],
                            "--save", str(folder / "lin.pth"))
    assert status == 0, err
    return (json.loads((folder / "kuzu_lin.json").read_text()), out,
            torch.load(folder / "lin.pth", weights_only=True))


# --- label smoothing ---------------------------------------------------------------------------------------------

def test_the_smoothed_loss_is_the_published_formula():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    labels = torch.tensor([0, 1])
    log_p = F.log_softmax(logits, dim=1)
    by_hand = np.mean([0.9 * -log_p[i, labels[i]].item() + 0.1 * -log_p[i].mean().item() for i in range(2)])
    assert smoothed_nll(log_p, labels, 0.1).item() == pytest.approx(by_hand, rel=1e-6)
    assert smoothed_nll(log_p, labels, 0.1).item() == pytest.approx(
        F.cross_entropy(logits, labels, label_smoothing=0.1).item(), rel=1e-6)  # torch's own definition agrees
    assert smoothed_nll(log_p, labels, 0.0).item() == pytest.approx(F.nll_loss(log_p, labels).item())


def test_a_smoothed_step_is_the_hand_computed_one(data, w0, tmp_path):
    _, images, labels, _, _ = data
    record, _, ckpt = run_lin(data, tmp_path, 1, "--smoothing", "0.2")
    expected = sgd_step(w0, smoothed_gradient(w0, images, labels, 0.2))
    got = weights(tmp_path / "lin.pth")
    for have, want in zip(got, expected):
        np.testing.assert_allclose(have, want, rtol=0, atol=2e-6)
    log_p = log_probabilities(w0, images)
    loss = np.mean(0.8 * -log_p[np.arange(len(labels)), labels] + 0.2 * -log_p.mean(1))
    assert record["results"]["epochs"][0]["train_loss"] == pytest.approx(loss, rel=1e-5)
    assert record["settings"]["smoothing"] == 0.2


# --- weight decay ------------------------------------------------------------------------------------------------

def test_a_step_with_weight_decay_is_the_hand_computed_one(data, w0, tmp_path):
    """--wd 0.05: each gradient gets 0.05 * w added (biases too, as torch's SGD does)."""
    _, images, labels, _, _ = data
    run_lin(data, tmp_path, 1, "--wd", "0.05")
    gradient = smoothed_gradient(w0, images, labels, 0.0)
    expected = sgd_step(w0, tuple(g + 0.05 * w for g, w in zip(gradient, w0)))
    for have, want in zip(weights(tmp_path / "lin.pth"), expected):
        np.testing.assert_allclose(have, want, rtol=0, atol=2e-6)
    plain = sgd_step(w0, gradient)
    assert np.abs(expected[0] - plain[0]).max() > 20 * 2e-6  # the decay moves weights far beyond the tolerance


# --- weight averaging ---------------------------------------------------------------------------------------------

def test_the_saved_weights_are_the_hand_computed_average(data, w0, tmp_path):
    """--ema 0.5 over two steps: d is 2/11 after the first and 0.25 after the second."""
    _, images, labels, test_images, test_labels = data
    record, out, ckpt = run_lin(data, tmp_path, 2, "--ema", "0.5")
    w1 = sgd_step(w0, smoothed_gradient(w0, images, labels, 0.0))
    w2 = sgd_step(w1, smoothed_gradient(w1, images, labels, 0.0))
    avg1 = tuple(2 / 11 * a + 9 / 11 * b for a, b in zip(w0, w1))
    avg2 = tuple(0.25 * a + 0.75 * b for a, b in zip(avg1, w2))
    for have, want in zip(weights(tmp_path / "lin.pth"), avg2):
        np.testing.assert_allclose(have, want, rtol=0, atol=2e-6)
    last = ckpt["resume"]["weights"]
    np.testing.assert_allclose(last["out.weight"].double().numpy(), w2[0], rtol=0, atol=2e-6)
    assert ckpt["resume"]["average_steps"] == 2
    results = record["results"]
    assert results["epochs"][-1]["accuracy"] == pytest.approx(accuracy(avg2, test_images, test_labels))
    assert results["final_test"]["compared"]["last weights, 1 view"] == pytest.approx(
        accuracy(w2, test_images, test_labels))
    assert results["accuracy"] == results["epochs"][-1]["accuracy"] and results["final_test"]["averaged"]
    assert "Compared: averaged weights, 1 view" in out


def test_a_resumed_averaged_run_equals_the_uninterrupted_one(data, tmp_path):
    flags = [*full_batch(3), "--mom", "0.9", "--ema", "0.5"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    status, _, err = kuzu(data, whole, *flags, "--save", str(whole / "lin.pth"))
    assert status == 0, err
    status, _, _ = kuzu(data, part, *flags, "--save", str(part / "lin.pth"), on_line=catch(stop_at="Train Epoch: 2"))
    assert status == 130
    status, out, err = kuzu(data, part, *flags, "--save", str(part / "lin.pth"), "--resume")
    assert status == 0 and "resuming from" in out, err
    a, b = (torch.load(folder / "lin.pth", weights_only=True) for folder in (whole, part))
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key])
        assert torch.equal(a["resume"]["weights"][key], b["resume"]["weights"][key])
    records = [json.loads((folder / "kuzu_lin.json").read_text())["results"] for folder in (whole, part)]
    assert records[0]["final_test"] == records[1]["final_test"]


# --- test-time views ----------------------------------------------------------------------------------------------

def test_the_final_test_over_five_views_is_the_hand_averaged_softmax(data, tmp_path):
    _, _, _, test_images, test_labels = data
    record, out, _ = run_lin(data, tmp_path, 1, "--tta", "5")
    wb = weights(tmp_path / "lin.pth")
    views = [moved(test_images, down, right) for down, right in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]]
    probability = np.mean([np.exp(log_probabilities(wb, view)) for view in views], axis=0)
    right = int(np.sum(probability.argmax(1) == test_labels))
    loss = float(-np.log(probability[np.arange(TEST), test_labels]).mean())
    final = record["results"]["final_test"]
    assert final["views"] == 5 and final["correct"] == right == record["results"]["correct"]
    assert final["test_loss"] == pytest.approx(loss, rel=1e-5)
    assert final["compared"]["last weights, 1 view"] == record["results"]["epochs"][-1]["accuracy"]
    assert f"Accuracy: {right}/{TEST} ({100 * right / TEST:.2f}%)" in out
    assert f"Test accuracy: {100 * right / TEST:.2f}%" in out


def test_views_of_a_one_pixel_detector_average_to_the_hand_formula():
    """Class k's score is the pixel at the k-th of (10,10) and its four neighbours; one bright pixel at (10,10)
    lights each class 0..4 in exactly one of the five views."""
    places = [(10, 10), (11, 10), (9, 10), (10, 11), (10, 9)]

    def detector(x):
        scores = torch.full((len(x), 10), -1.0)
        for k, (row, col) in enumerate(places):
            scores[:, k] = x[:, 0, row, col]
        return F.log_softmax(scores, dim=1)

    image = torch.full((1, 1, 28, 28), -1.0)
    image[0, 0, 10, 10] = 1.0
    e = np.e
    high, low = e / (e + 9 / e), (1 / e) / (e + 9 / e)  # one score 1, nine -1
    expected = np.log([(high + 4 * low) / 5] * 5 + [low] * 5)
    np.testing.assert_allclose(averaged_output(detector, image, 5)[0].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(averaged_output(detector, image, 1)[0].numpy(),
                               np.log([high] + [low] * 9), rtol=1e-6)


def test_views_with_ema_test_the_average_and_compare_the_last_weights(data, w0, tmp_path):
    """--tta 5 --ema 0.5 over four steps: the final test is the hand-averaged softmax of the average's five views
    (not of the last weights), and the last weights are compared over one view."""
    _, images, labels, test_images, test_labels = data
    record, out, _ = run_lin(data, tmp_path, 4, "--tta", "5", "--ema", "0.5")
    w2 = avg2 = w0  # after the loop: the last weights and their average
    for t in range(1, 5):
        w2 = sgd_step(w2, smoothed_gradient(w2, images, labels, 0.0))
        d = min(0.5, (1 + t) / (10 + t))
        avg2 = tuple(d * a + (1 - d) * b for a, b in zip(avg2, w2))
    assert accuracy(avg2, test_images, test_labels) != accuracy(w2, test_images, test_labels)  # told apart
    views = [moved(test_images, down, right) for down, right in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]]

    def five_view_loss(wb):
        probability = np.mean([np.exp(log_probabilities(wb, view)) for view in views], axis=0)
        return float(-np.log(probability[np.arange(TEST), test_labels]).mean()), \
            int(np.sum(probability.argmax(1) == test_labels))

    loss, right = five_view_loss(avg2)
    assert abs(loss - five_view_loss(w2)[0]) > 1e-3  # the average and the last weights are told apart
    final = record["results"]["final_test"]
    assert final["views"] == 5 and final["averaged"] and final["correct"] == right
    assert final["test_loss"] == pytest.approx(loss, rel=1e-5)
    one_view = float(-log_probabilities(avg2, test_images)[np.arange(TEST), test_labels].mean())
    assert record["results"]["epochs"][-1]["test_loss"] == pytest.approx(one_view, rel=1e-5)  # each epoch: the average
    assert final["compared"] == pytest.approx({"averaged weights, 1 view": accuracy(avg2, test_images, test_labels),
                                               "last weights, 1 view": accuracy(w2, test_images, test_labels)})


def test_the_epochs_thread_count_is_the_one_most_steps_ran_at():
    """kuzu_main.thread_use on a chooser whose steps were timed by hand: two threads took 100 times longer, so one
    step ran at 2 and 299 at 1."""
    import kuzu_main
    from lab.common.threads import ThreadChooser

    now = [0.0]
    current = [None]

    def set_threads(count):
        current[0] = count

    chooser = ThreadChooser([1, 2], clock=lambda: now[0], set_threads=set_threads)
    for _ in range(300):
        with chooser.step():
            now[0] += 0.001 if current[0] == 1 else 0.100
    row = kuzu_main.thread_use(chooser)
    assert row["threads"] == 1 and row["thread_steps"] == {"1": 299, "2": 1}
    assert [look["chosen"] for look in row["thread_looks"]] == [1]


# --- cutout -------------------------------------------------------------------------------------------------------

def test_erased_squares_by_hand():
    batch = torch.zeros(2, 1, 6, 6)
    out = erase_squares(batch, torch.tensor([[2, 3], [0, 0]]), 3)
    first = np.zeros((6, 6))
    first[1:4, 2:5] = -1  # rows 2-1 .. 2+1, columns 3-1 .. 3+1
    second = np.zeros((6, 6))
    second[0:2, 0:2] = -1  # the square from (-1, -1) sticks out: 2 x 2 left
    np.testing.assert_array_equal(out[0, 0].numpy(), first)
    np.testing.assert_array_equal(out[1, 0].numpy(), second)
    assert batch.abs().sum() == 0  # the batch given is left as it was


def test_cutout_blacks_one_square_per_image_repeatably_and_leaves_the_shifts_alone():
    images = torch.linspace(0, 1, 40 * 28 * 28).reshape(40, 1, 28, 28)
    labels = torch.arange(40) % 10
    plain = Batches(images, labels, 40, shuffle=True, seed=3, shift=2)
    erased = Batches(images, labels, 40, shuffle=True, seed=3, shift=2, erase=6)
    a, b = next(iter(plain))[0], next(iter(erased))[0]
    assert torch.equal(b, next(iter(erased))[0])  # the same seed and epoch: the same squares
    changed = (a != b)[:, 0]
    for image in range(40):
        rows, cols = torch.nonzero(changed[image], as_tuple=True)
        assert 1 <= len(rows) <= 36 and (b[image, 0][changed[image]] == -1).all()
        assert rows.max() - rows.min() < 6 and cols.max() - cols.min() < 6  # one square of side 6 at most
        assert torch.equal(a[image][~changed[image][None]], b[image][~changed[image][None]])  # all else as shifted
    erased.set_epoch(1)
    assert not torch.equal(next(iter(erased))[0], b)  # another epoch, other squares


def test_erase_changes_the_training(data, tmp_path):
    _, images, labels, _, _ = data
    plain, _, _ = run_lin(data, tmp_path / "plain", 1)
    erased, _, _ = run_lin(data, tmp_path / "erased", 1, "--erase", "8")
    assert erased["results"]["epochs"][0]["train_loss"] != plain["results"]["epochs"][0]["train_loss"]
    assert erased["settings"]["erase"] == 8


# --- what the report says of it -----------------------------------------------------------------------------------

def test_the_reports_notes_give_the_records_final_test_and_threads(data, tmp_path):
    import re

    from lab.report.content import training_notes

    record, _, _ = run_lin(data, tmp_path, 2, "--tta", "5", "--ema", "0.5")
    results = record["results"]
    results["epochs"][0].update(threads=2, thread_looks=[{"mean_ms": {"1": 3.0, "2": 2.0}, "chosen": 2}])
    results["epochs"][1].update(threads=1, thread_looks=[])  # an epoch without a look still counts
    final, threads = training_notes(results)
    numbers = [float(x) for x in re.findall(r"(\d+\.\d+)%", final)]
    compared = results["final_test"]["compared"]
    assert numbers == [results["accuracy"], compared["averaged weights, 1 view"], compared["last weights, 1 view"]]
    assert "averaged over 5 views" in final and "average of the weights" in final
    assert "1 at 1 thread, 1 at 2 threads" in threads
    plain, _, _ = run_lin(data, tmp_path / "plain", 1, "--threads", "1")
    assert training_notes(plain["results"]) == []  # one view, the last weights, a fixed thread count: nothing to say


def test_the_records_thread_count_is_the_one_most_epochs_ran_at(tmp_path, monkeypatch):
    """Without --threads the record's machine.threads is the count most epochs ran at (2 of 3 epochs at 2);
    with --threads, that count."""
    import kuzu_main

    epochs = [{"epoch": 1, "threads": 2}, {"epoch": 2, "threads": 1}, {"epoch": 3, "threads": 2}]
    monkeypatch.setattr(kuzu_main, "run", lambda settings, device: ([], {"epochs": epochs}))
    assert kuzu_main.main(["--net", "lin", "--device", "cpu", "--plot-dir", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "kuzu_lin.json").read_text())["machine"]["threads"] == 2
    assert kuzu_main.main(["--net", "lin", "--device", "cpu", "--threads", "1", "--plot-dir", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "kuzu_lin.json").read_text())["machine"]["threads"] == 1


def test_resume_compares_every_setting_that_shapes_the_training():
    """--resume goes on only under the settings the run began with: the net and its sizes, every step's recipe
    (learning rate, momentum, schedule, weight decay, averaging, smoothing, cutout, shifts, batches) and the seed."""
    from lab.characters.settings import Settings
    from lab.common.options import same_on_resume

    shaping = {"net", "hid", "conv1", "conv2", "fc", "dropout", "lr", "mom", "nesterov", "schedule", "wd", "ema",
               "smoothing", "erase", "shift", "batch_size", "seed", "epochs"}
    assert shaping <= set(same_on_resume(Settings))


def test_the_settings_line_names_the_recipes_extras_only_when_used(data, tmp_path):
    _, out, _ = run_lin(data, tmp_path / "plain", 1)
    first = out.splitlines()[0]
    assert first.startswith("net=lin ") and not any(f" {name}=" in first for name in ("wd", "ema", "smoothing",
                                                                                      "tta", "erase"))
    _, out, _ = run_lin(data, tmp_path / "extras", 1, "--ema", "0.5", "--tta", "5", "--erase", "4")
    first = out.splitlines()[0]
    assert " ema=0.5" in first and " tta=5" in first and " erase=4" in first and " wd=" not in first
