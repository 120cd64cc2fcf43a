"""Reference tests for training: Part 1's train_epoch and learning-rate schedule, Part 3's loss, choice of
candidate and --until rule.

The SGD steps are redone by hand in numpy (softmax cross-entropy gradients
and torch.optim.SGD's momentum rule v = mom*v + g, w -= lr*v); the cosine
schedule is the closed form lr*(1+cos(pi*t/T))/2; the sequence loss is the
module's documented definition worked out on a hand-made padded batch.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lab.characters import training as kuzu_train
from lab.characters.settings import Settings
from lab.common.errors import UserError
from lab.recurrent import training as seq_training

# ---------------------------------------------------------------- Part 1: train_epoch


class Tiny(nn.Module):
    """4 inputs -> 3 classes, log_softmax; an optional dropout after the linear map."""

    def __init__(self, dropout=None):
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.drop = nn.Dropout(dropout) if dropout is not None else nn.Identity()
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor(W0))
            self.lin.bias.copy_(torch.tensor(B0))

    def forward(self, x):
        return F.log_softmax(self.drop(self.lin(x)), dim=1)


class FixedBatches:
    """What train_epoch reads of kmnist.Batches: labels, batch_size, len() and the batches in order."""

    def __init__(self, batches):
        self.batches = batches
        self.batch_size = len(batches[0][1])
        self.labels = torch.cat([labels for _, labels in batches])

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)


W0 = np.array([[0.2, -0.1, 0.4, 0.0], [-0.3, 0.5, 0.1, 0.2], [0.1, 0.1, -0.2, -0.4]], dtype=np.float32)
B0 = np.array([0.05, -0.05, 0.0], dtype=np.float32)
X1 = np.array([[1.0, 0.5, -1.0, 2.0], [0.0, -1.5, 1.0, 0.5]], dtype=np.float32)
Y1 = np.array([2, 0])
X2 = np.array([[-0.5, 1.0, 1.5, 0.0], [2.0, 0.0, -0.5, -1.0]], dtype=np.float32)
Y2 = np.array([1, 1])


def batches():
    return FixedBatches([(torch.tensor(X1), torch.tensor(Y1)), (torch.tensor(X2), torch.tensor(Y2))])


def loss_and_grads(w, b, x, y):
    """Mean cross-entropy of softmax(x w^T + b) and its gradients, from the textbook formulas."""
    w, b, x = (np.asarray(a, dtype=np.float64) for a in (w, b, x))
    z = x @ w.T + b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = float(-np.log(p[np.arange(len(y)), y]).mean())
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    return loss, d.T @ x, d.sum(axis=0)


def hand_sgd(lrs, mom, steps):
    """torch.optim.SGD semantics: v = g at the first step, then v = mom*v + g; w -= lr*v. Returns (w, b, losses)."""
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    vw = vb = None
    losses = []
    for lr, (x, y) in zip(lrs, steps):
        loss, gw, gb = loss_and_grads(w, b, x, y)
        losses.append(loss)
        vw = gw if vw is None else mom * vw + gw
        vb = gb if vb is None else mom * vb + gb
        w, b = w - lr * vw, b - lr * vb
    return w, b, losses


def train(model, schedule, steps_total, lr=0.1, mom=0.9, dry_run=False):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom)
    scheduler = kuzu_train.make_scheduler(optimizer, schedule, steps_total)
    mean = kuzu_train.train_epoch(model, optimizer, scheduler, batches(), epoch=1, dry_run=dry_run)
    return mean, optimizer


def test_two_sgd_momentum_steps_equal_the_hand_computed_update():
    model = Tiny()
    mean, _ = train(model, "const", 2)
    w, b, losses = hand_sgd([0.1, 0.1], 0.9, [(X1, Y1), (X2, Y2)])
    assert np.allclose(model.lin.weight.detach().numpy(), w, atol=1e-6)
    assert np.allclose(model.lin.bias.detach().numpy(), b, atol=1e-6)
    assert mean == pytest.approx((losses[0] + losses[1]) / 2, rel=1e-6)  # the mean over the 2 batches


def test_the_cosine_schedule_steps_once_per_batch_inside_the_epoch():
    model = Tiny()
    steps_total = 4
    mean, optimizer = train(model, "cosine", steps_total)
    cosine = [0.1 * (1 + math.cos(math.pi * t / steps_total)) / 2 for t in range(steps_total + 1)]
    w, b, losses = hand_sgd(cosine[:2], 0.9, [(X1, Y1), (X2, Y2)])  # batch 1 at t=0, batch 2 at t=1
    assert np.allclose(model.lin.weight.detach().numpy(), w, atol=1e-6)
    assert np.allclose(model.lin.bias.detach().numpy(), b, atol=1e-6)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(cosine[2], abs=1e-12)  # = 0.05 after 2 batches


def test_dry_run_takes_one_step_and_reports_its_loss():
    model = Tiny()
    mean, _ = train(model, "const", 1, dry_run=True)
    w, b, losses = hand_sgd([0.1], 0.9, [(X1, Y1)])
    assert np.allclose(model.lin.weight.detach().numpy(), w, atol=1e-6)
    assert mean == pytest.approx(losses[0], rel=1e-6)


def test_train_epoch_switches_a_model_left_in_eval_mode_to_training():
    # dropout p=1 zeroes every logit in training mode: each loss is then exactly log 3
    model = Tiny(dropout=1.0).eval()
    mean, _ = train(model, "const", 2)
    assert model.training and model.drop.training
    assert mean == pytest.approx(math.log(3), rel=1e-6)


def test_train_epoch_prints_the_course_log_line(capsys):
    train(Tiny(), "const", 2)
    loss1, _, _ = loss_and_grads(W0, B0, X1, Y1)
    assert capsys.readouterr().out == f"Train Epoch: 1 [0/4 (0%)]\tLoss: {loss1:.6f}\n"


def test_a_non_finite_loss_is_diverged():
    model = Tiny()
    with torch.no_grad():
        model.lin.weight[0, 0] = float("nan")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(kuzu_train.Diverged, match="diverged in epoch 3"):
        kuzu_train.train_epoch(model, optimizer, kuzu_train.make_scheduler(optimizer, "const", 2), batches(), 3)


def hand_nesterov(lr, mom, steps):
    """torch.optim.SGD(nesterov=True): v = mom*v + g (v = g at first); w -= lr*(g + mom*v)."""
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    vw = vb = None
    for x, y in steps:
        _, gw, gb = loss_and_grads(w, b, x, y)
        vw = gw if vw is None else mom * vw + gw
        vb = gb if vb is None else mom * vb + gb
        w, b = w - lr * (gw + mom * vw), b - lr * (gb + mom * vb)
    return w, b


@pytest.mark.parametrize("nesterov", [False, True])
def test_make_optimizer_is_sgd_with_plain_or_nesterov_momentum(nesterov):
    model = Tiny()
    optimizer = kuzu_train.make_optimizer(Settings(net="lin", lr=0.1, mom=0.9, nesterov=nesterov), model)
    scheduler = kuzu_train.make_scheduler(optimizer, "const", 2)
    kuzu_train.train_epoch(model, optimizer, scheduler, batches(), epoch=1)
    steps = [(X1, Y1), (X2, Y2)]
    w, b = hand_nesterov(0.1, 0.9, steps) if nesterov else hand_sgd([0.1, 0.1], 0.9, steps)[:2]
    assert np.allclose(model.lin.weight.detach().numpy(), w, atol=1e-6)
    assert np.allclose(model.lin.bias.detach().numpy(), b, atol=1e-6)


def test_nesterov_without_momentum_is_refused():
    with pytest.raises(UserError, match="--nesterov needs a momentum"):
        Settings(net="lin", lr=0.1, mom=0.0, nesterov=True)


# ---------------------------------------------------------------- Part 1: make_scheduler


@pytest.mark.parametrize("steps_total", [10, 7])
def test_cosine_schedule_is_the_closed_form_at_every_step(steps_total):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.3)
    scheduler = kuzu_train.make_scheduler(optimizer, "cosine", steps_total)
    seen = []
    for _ in range(steps_total):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    seen.append(optimizer.param_groups[0]["lr"])
    expected = [0.3 * (1 + math.cos(math.pi * t / steps_total)) / 2 for t in range(steps_total + 1)]
    assert seen == pytest.approx(expected, abs=1e-12)
    assert seen[-1] == pytest.approx(0.0, abs=1e-12)


def test_constant_schedule_keeps_the_learning_rate():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.3)
    scheduler = kuzu_train.make_scheduler(optimizer, "const", 5)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
        assert optimizer.param_groups[0]["lr"] == 0.3


# ---------------------------------------------------------------- Part 3: sequence_losses


def probs_to_logits(rows):
    return torch.tensor(rows, dtype=torch.float32).log()


def test_sequence_loss_is_the_mean_over_real_positions_and_symbols_only():
    # sequence 0 has 2 positions, sequence 1 only 1 (padded to 2): padding has logits but a zero true prob
    logits = probs_to_logits([[[0.5, 0.5], [0.75, 0.25]],
                              [[0.25, 0.75], [0.5, 0.5]]])
    prob = torch.tensor([[[1.0, 0.0], [1.0, 0.0]],
                         [[0.0, 1.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, True], [True, False]])
    # by hand: seq 0: (0.25 + 0.25 + 0.0625 + 0.0625) / (2 positions * 2 symbols) = 0.15625
    #          seq 1: (0.0625 + 0.0625) / (1 position * 2 symbols) = 0.0625
    got = seq_training.sequence_losses(logits, prob, mask)
    assert got.tolist() == pytest.approx([0.15625, 0.0625], abs=1e-6)


def test_sequence_loss_per_candidate_divides_by_each_sequence_length():
    # the training window's form: logits (batch, time, candidates, symbols), prob and mask broadcast
    logits = probs_to_logits([[[[0.5, 0.5], [1.0, 0.0]], [[0.75, 0.25], [1.0, 0.0]], [[0.5, 0.5], [1.0, 0.0]]],
                              [[[0.25, 0.75], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]]])
    prob = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
                         [[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    got = seq_training.sequence_losses(logits, prob.unsqueeze(2), mask.unsqueeze(-1))
    # candidate 0, seq 0: (0.5 + 0.125 + 0.5) / 6 = 0.1875; candidate 1, seq 0: (0 + 0 + 2) / 6 = 1/3
    # candidate 0, seq 1: 0.125 / 2 = 0.0625;                 candidate 1, seq 1: 0.5 / 2 = 0.25
    assert got.shape == (2, 2)
    assert got.tolist()[0] == pytest.approx([0.1875, 1 / 3], abs=1e-6)
    assert got.tolist()[1] == pytest.approx([0.0625, 0.25], abs=1e-6)


# ---------------------------------------------------------------- Part 3: best_candidate


def test_best_candidate_is_the_lowest_finite_loss():
    # the first (0) and the highest finite (4) both differ from the lowest finite (2)
    losses = torch.tensor([0.3, float("nan"), 0.1, float("inf"), 0.5, 0.2])
    assert seq_training.best_candidate(losses) == 2
    assert seq_training.best_candidate(torch.tensor([float("-inf"), 0.4, 0.25, float("nan")])) == 2
    assert seq_training.best_candidate(torch.tensor([0.7])) == 0


def test_best_candidate_with_no_finite_loss_is_diverged():
    with pytest.raises(seq_training.Diverged, match="diverged"):
        seq_training.best_candidate(torch.tensor([float("nan"), float("inf")]))


# ---------------------------------------------------------------- Part 3: should_stop (--until)


def stop(losses, until=0.1, size=1, select=3):
    progress = seq_training.Progress(None, size)
    progress.reports = [(k + 1, loss) for k, loss in enumerate(losses)]
    return seq_training.should_stop(progress, until, select)


def test_until_needs_ten_reports_in_a_row_below_the_threshold():
    assert seq_training.UNTIL_REPORTS == 10
    assert stop([0.05] * 10) is True
    assert stop([0.05] * 9) is False                    # too few reports
    assert stop([0.5] + [0.05] * 10) is True            # an old high report is outside the last ten
    assert stop([0.05] * 9 + [0.5]) is False            # the latest report is above
    assert stop([0.05] * 9 + [0.1]) is False            # equal is not below
    assert stop([0.5] * 10) is False                    # all above (a reversed comparison stops here)
    assert stop([0.05] * 10, until=None) is False       # no --until: never stop early


def test_until_with_candidates_counts_only_reports_after_the_choice():
    # --select 3: the first 3 reports come before the final choice of candidate
    assert stop([0.05] * 12, size=8, select=3) is False  # only 9 after the choice
    assert stop([0.05] * 13, size=8, select=3) is True
    assert stop([0.5] * 3 + [0.05] * 10, size=8, select=3) is True
    assert stop([0.05] * 3 + [0.05] * 8 + [0.5] + [0.05], size=8, select=3) is False


def test_onecycle_rises_to_the_optimisers_lr_then_anneals_over_exactly_the_given_steps():
    # 1cycle (Smith & Topin 2017) as torch's defaults define it: start at lr/25, cosine up to lr at
    # step 0.3*T - 1, cosine down to lr/25/1e4 at step T - 1; momentum the other way, 0.95 -> 0.85 -> 0.95
    lr, total = 0.05, 10
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    scheduler = kuzu_train.make_scheduler(optimizer, "onecycle", total)
    start, low = lr / 25, lr / 25 / 1e4
    up, down = 0.3 * total - 1, total - 1

    def cos_between(a, b, frac):
        return b + (a - b) * (1 + math.cos(math.pi * frac)) / 2

    expected = [cos_between(start, lr, t / up) if t <= up else cos_between(lr, low, (t - up) / (down - up))
                for t in range(total)]
    momenta = [cos_between(0.95, 0.85, t / up) if t <= up else cos_between(0.85, 0.95, (t - up) / (down - up))
               for t in range(total)]
    seen, seen_mom = [], []
    for _ in range(total):  # one step per batch, all of them: stepping past the end would raise
        seen.append(optimizer.param_groups[0]["lr"])
        seen_mom.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert seen_mom == pytest.approx(momenta, rel=1e-9)
    assert max(seen) == pytest.approx(lr, rel=1e-12)
