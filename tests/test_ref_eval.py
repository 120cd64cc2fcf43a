"""Reference tests for the test passes: Part 1's confusion matrix, evaluate and most_confused, Part 3's
evaluate, learned and verdict_lines.

Every expected number is worked out by hand (or with plain Python/numpy from
the published definitions) on small inputs chosen so that the plausible
mistakes give a different answer: an asymmetric confusion matrix (a
transpose fails), a partial last batch, a probability of exactly 0.5, ties
in the off-diagonal cells, thresholds just under and over.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lab.characters import training as kuzu_train
from lab.recurrent import training as seq_training

# KMNIST's ten classes in the dataset's label order (Clanuwat et al. 2018, classmap.csv)
KMNIST_NAMES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


# ---------------------------------------------------------------- Part 1: confusion matrix


def test_confusion_matrix_rows_are_true_classes_and_columns_the_choices():
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 3])
    chosen = torch.tensor([0, 1, 1, 0, 2, 2, 1])
    expected = [[1, 1, 0, 0],   # true 0: once right, once taken for 1
                [0, 1, 0, 0],   # true 1: right
                [1, 0, 2, 0],   # true 2: twice right, once taken for 0
                [0, 1, 0, 0]]   # true 3: taken for 1
    assert kuzu_train.confusion_matrix(labels, chosen, classes=4).tolist() == expected


def test_confusion_matrix_is_10_by_10_even_when_classes_are_missing():
    labels = torch.tensor([2, 2, 0])
    chosen = torch.tensor([2, 0, 0])
    matrix = kuzu_train.confusion_matrix(labels, chosen)
    assert tuple(matrix.shape) == (10, 10)
    expected = np.zeros((10, 10), dtype=int)
    expected[2, 2] = expected[2, 0] = expected[0, 0] = 1
    assert matrix.tolist() == expected.tolist()


# ---------------------------------------------------------------- Part 1: evaluate


class PixelLogits(nn.Module):
    """Reads its 10 logits from the first 10 pixels of row 0; dropout in front, active in train mode only."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return F.log_softmax(self.drop(x[:, 0, 0, :10]), dim=1)


def pixel_images(rows):
    """Images (N,1,28,28) of background -1 whose row 0 starts with the given logits."""
    images = torch.full((len(rows), 1, 28, 28), -1.0)
    images[:, 0, 0, :10] = torch.tensor(rows, dtype=torch.float32)
    return images


def logits_for(chosen, runner_up, high=2.0, second=1.0):
    row = [0.0] * 10
    row[chosen], row[runner_up] = high, second
    return row


# (true label, logits): the chosen class is the largest logit
CASES = [(0, logits_for(0, 3)), (0, logits_for(3, 0)), (3, logits_for(3, 7, 3.0, 0.5)),
         (3, logits_for(7, 3, 1.5, 1.0)), (7, logits_for(7, 0, 4.0, -1.0))]


def nll(row, label):
    """-log softmax(row)[label], from the definition."""
    return math.log(sum(math.exp(v) for v in row)) - row[label]


def test_evaluate_returns_mean_loss_correct_count_confusion_and_choices():
    labels = torch.tensor([label for label, _ in CASES])
    images = pixel_images([row for _, row in CASES])
    model = PixelLogits().train()  # left in train mode: evaluate must switch the dropout off
    loss, correct, confusion, predicted = kuzu_train.evaluate(model, images, labels, batch_size=2)
    assert model.training is False
    assert predicted.tolist() == [0, 3, 3, 7, 7]
    assert correct == 3
    expected = np.zeros((10, 10))
    expected[0, 0] = expected[0, 3] = expected[3, 3] = expected[3, 7] = expected[7, 7] = 1
    assert isinstance(confusion, np.ndarray) and confusion.dtype == float
    assert np.array_equal(confusion, expected)  # (0 -> 3) once, (3 -> 0) never: a transpose fails
    assert loss == pytest.approx(sum(nll(row, label) for label, row in CASES) / len(CASES), rel=1e-6)


def test_evaluate_scores_the_images_as_given_without_shifting_them(monkeypatch):
    # the logits sit in the image's top-left corner: any shift (the training augmentation) moves
    # them out of place and changes the choices; the test pass must never call the shifting code
    from lab.characters import kmnist

    def no_shift(*args, **kwargs):
        raise AssertionError("evaluate shifted the test images")

    monkeypatch.setattr(kmnist, "shift_batch", no_shift)
    labels = torch.tensor([label for label, _ in CASES])
    rows = [row for _, row in CASES]
    _, correct, _, predicted = kuzu_train.evaluate(PixelLogits(), pixel_images(rows), labels, batch_size=1000)
    assert predicted.tolist() == [int(np.argmax(row)) for row in rows]
    assert correct == 3


def test_evaluate_refuses_an_empty_split():
    with pytest.raises(kuzu_train.UserError, match="no images"):
        kuzu_train.evaluate(PixelLogits(), torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long))


# ---------------------------------------------------------------- Part 1: most_confused


def confusion_with_known_pairs():
    matrix = np.zeros((10, 10))
    np.fill_diagonal(matrix, 50)  # the diagonal is far the largest
    matrix[8, 0] = 9   # re -> o
    matrix[1, 2] = 7   # ki -> su   (tie)
    matrix[3, 5] = 7   # tsu -> ha  (tie)
    matrix[5, 3] = 4   # ha -> tsu: the transpose of a tie, smaller
    matrix[2, 1] = 1   # su -> ki
    return matrix


def test_most_confused_reads_the_largest_off_diagonal_cells_first():
    pairs = kuzu_train.most_confused(confusion_with_known_pairs(), top=5)
    assert pairs[0] == ("re", "o", 9)
    assert set(pairs[1:3]) == {("ki", "su", 7), ("tsu", "ha", 7)}  # a tie: either order
    assert pairs[3:] == [("ha", "tsu", 4), ("su", "ki", 1)]
    assert all(isinstance(count, int) for _, _, count in pairs)


def test_most_confused_defaults_to_three_pairs():
    pairs = kuzu_train.most_confused(confusion_with_known_pairs())
    assert len(pairs) == 3 and pairs[0] == ("re", "o", 9)


@pytest.mark.parametrize("empty_class", [None, 4])
def test_most_confused_never_returns_a_diagonal_cell(empty_class):
    matrix = confusion_with_known_pairs()
    if empty_class is not None:
        matrix[empty_class, :] = 0  # a class with no test images: its diagonal is 0 like most other cells
    pairs = kuzu_train.most_confused(matrix, top=90)  # every off-diagonal cell, once
    cells = [(KMNIST_NAMES.index(t), KMNIST_NAMES.index(c)) for t, c, _ in pairs]
    assert len(set(cells)) == 90 and all(t != c for t, c in cells)
    assert [n for _, _, n in pairs[:5]] == [9, 7, 7, 4, 1] and all(n == 0 for _, _, n in pairs[5:])
    assert all(matrix[t, c] == n for (t, c), (_, _, n) in zip(cells, pairs))


def test_most_confused_pairs_format_as_true_then_chosen():
    pairs = kuzu_train.most_confused(confusion_with_known_pairs(), top=1)
    assert kuzu_train.format_pairs(pairs) == "re -> o: 9"


# ---------------------------------------------------------------- Part 3: evaluate


class FixedLogits(nn.Module):
    """A sequence model that returns chosen logits (batch, time, symbols) whatever its input."""

    def __init__(self, probs):
        super().__init__()
        self.logits = torch.tensor(probs, dtype=torch.float32).log()  # softmax(log p) = p

    def forward(self, x):
        assert tuple(x.shape[:2]) == tuple(self.logits.shape[:2])
        return None, self.logits


THIRD = [1 / 3, 1 / 3, 1 / 3]
# Two sequences over 3 symbols, the second padded from 1 to 4 positions.
SEQ0 = np.array([0, 1, 2, 0, 1])  # targets 1, 2, 0, 1
PROB0 = np.array([[0, 1, 0], [0, .5, .5], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
OUT0 = [[.2, .6, .2],    # certain, target 1 at 0.6: right
        [.05, .05, .9],  # not certain (0.5/0.5): never counted, though the target 2 gets 0.9
        [.4, .35, .25],  # certain, target 0 at 0.4: wrong although it is the largest
        [.5, .5, 0.]]    # certain, target 1 at exactly 0.5: wrong (must be above 0.5)
SEQ1 = np.array([0, 2])  # target 2
PROB1 = np.array([[0, 0, 1]], dtype=np.float32)
OUT1 = [[.1, .2, .7], [.9, .05, .05], [.9, .05, .05], [.9, .05, .05]]  # certain, right; then padding
SAMPLES = [(SEQ0, PROB0, None), (SEQ1, PROB1, None)]


def sq_loss(out, prob):
    """Mean over the sequence's own positions and symbols of (predicted - true)^2."""
    out = np.array(out[:len(prob)], dtype=float)
    return float(((out - prob) ** 2).mean())


def test_seq_evaluate_counts_certain_symbols_given_above_one_half():
    lang = SimpleNamespace(num_symbols=3, has_final=False)
    result = seq_training.evaluate(FixedLogits([OUT0, OUT1]), lang, SAMPLES)
    assert result["det_total"] == 4 and result["det_right"] == 2
    assert result["sequences"] == 2 and "final_right" not in result
    expected = (sq_loss(OUT0, PROB0) + sq_loss(OUT1, PROB1)) / 2
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


def test_seq_evaluate_scores_the_final_symbol_of_embedded_reber():
    final = {len(SEQ0): 2, len(SEQ1): 0}  # seq0's final symbol is the wrong one, seq1's the right one
    lang = SimpleNamespace(num_symbols=3, has_final=True, final_position=lambda seq: final[len(seq)])
    result = seq_training.evaluate(FixedLogits([OUT0, OUT1]), lang, SAMPLES)
    assert result["final_right"] == 1
    diffs = np.array([np.array(OUT0[2]) - PROB0[2], np.array(OUT1[0]) - PROB1[0]])
    assert result["final_loss"] == pytest.approx(float((diffs ** 2).mean()), rel=1e-5)


# ---------------------------------------------------------------- Part 3: learned and the verdict


def result(right, total=100, loss=0.04, sequences=100, final=None):
    out = {"det_right": right, "det_total": total, "loss": loss, "sequences": sequences}
    if final is not None:
        out["final_right"] = final
    return out


def test_the_verdict_thresholds_are_99_percent_and_the_language_target():
    assert seq_training.LEARNED_SHARE == 0.99
    assert seq_training.TARGET_LOSS["anb2n"] == 0.05 and seq_training.TARGET_LOSS["reber"] == 0.02


@pytest.mark.parametrize("right, loss, ok", [
    (99, 0.049999, True),    # exactly 99% and a loss just under the target
    (100, 0.049999, True),
    (98, 0.0, False),        # 98%: too few however low the loss
    (99, 0.05, False),       # the loss must be below the target, not equal
    (100, 0.050001, False),
])
def test_learned_at_the_thresholds(right, loss, ok):
    assert seq_training.learned(result(right, loss=loss), 0.05) is ok
    last = seq_training.verdict_lines(result(right, loss=loss), 0.05)[-1]
    assert last == ("verdict: learned" if ok else "verdict: not learned yet (aim: >= 99% and loss < 0.05)")


def test_embedded_reber_also_needs_99_percent_of_the_final_symbols():
    assert seq_training.learned(result(100, loss=0.01, final=99), 0.02) is True
    assert seq_training.learned(result(100, loss=0.01, final=98), 0.02) is False
    lines = seq_training.verdict_lines(result(100, loss=0.01, final=98), 0.02)
    assert lines[1] == "final T/P predicted (p > 0.5): 98.0% (98/100)"
    assert lines[-1] == "verdict: not learned yet (aim: >= 99% and loss < 0.02)"


def test_verdict_first_line_reports_the_share_and_the_loss():
    lines = seq_training.verdict_lines(result(99, total=100, loss=0.0123, sequences=100), 0.05)
    assert lines[0] == ("verdict on 100 fresh sequences: deterministic symbols predicted (p > 0.5) 99.0% "
                        "(99/100), mean loss 0.0123")
    assert len(lines) == 2
