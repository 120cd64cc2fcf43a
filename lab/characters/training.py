"""Part 1 training and testing: one epoch of SGD, the test pass, the confusion matrix and its read-outs.

``train_epoch`` prints the course's loss line every 100 batches and returns
the epoch's mean training loss (with label smoothing where asked, and
keeping a ``WeightAverage`` up to date where there is one); ``evaluate``
returns the test loss, the number right, the 10x10 confusion matrix (rows:
true class, columns: the network's choice) and the predictions, optionally
averaged over shifted copies of each test image; ``most_confused`` reads the
largest off-diagonal cells.
"""
import contextlib
import copy
import math

import numpy as np
import torch
import torch.nn.functional as F

from lab.characters import kmnist
from lab.common.errors import Diverged, UserError, first_line

LOG_EVERY = 100  # batches between the course's "Train Epoch" lines
SCHEDULES = ("onecycle", "cosine", "const")


def make_optimizer(settings, model):
    """SGD with the settings' learning rate, (with ``nesterov``, Nesterov) momentum ``mom`` and weight decay ``wd``
    (torch's: wd * w is added to each gradient)."""
    return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.mom, nesterov=settings.nesterov,
                           weight_decay=settings.wd)


def make_scheduler(optimizer, schedule, steps):
    """The learning-rate schedule over ``steps`` optimiser steps, stepped once per batch.

    onecycle: torch's OneCycleLR peaking at the optimiser's lr (warm-up over
    the first 30% of the steps, then cosine annealing; momentum cycles
    0.95 -> 0.85 -> 0.95 as torch does by default); cosine: decay to 0 along
    a cosine; const: the course's constant rate.
    """
    if schedule == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=max(steps, 2))
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def smoothed_nll(log_probs, labels, smoothing=0.0):
    """The batch's mean loss with label smoothing ``smoothing`` (0: the course's nll_loss).

    The target puts 1 - smoothing on the true class and spreads smoothing
    evenly over all classes (torch's own label smoothing; the models give
    log-probabilities, which its log-softmax leaves as they are).
    """
    if not smoothing:
        return F.nll_loss(log_probs, labels)
    return F.cross_entropy(log_probs, labels, label_smoothing=smoothing)


class WeightAverage:
    """An exponential moving average of a model's weights, kept in a copy of the model for testing.

    After training step t (counted from 1) each averaged tensor becomes
    d * average + (1 - d) * weight with d = min(decay, (1 + t) / (10 + t)),
    so the first steps, whose weights are far from the end, soon fade out.
    ``model`` is the copy to test and save.
    """

    def __init__(self, model, decay):
        self.model = copy.deepcopy(model).requires_grad_(False)
        self.decay, self.steps = decay, 0
        # the trained model's tensors and their averages, paired once (the optimiser updates them in place)
        self.pairs = list(zip(self.model.state_dict().values(), model.state_dict().values()))

    @torch.no_grad()
    def update(self):
        """Fold the trained model's current weights into the average (after an optimiser step)."""
        self.steps += 1
        keep = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for average, weight in self.pairs:
            average.lerp_(weight, 1 - keep)


def train_epoch(model, optimizer, scheduler, batches, epoch, dry_run=False, smoothing=0.0, average=None,
                chooser=None):
    """One pass over the training batches; returns the mean training loss over the batches.

    Prints ``Train Epoch: e [n/N (p%)]\\tLoss: x`` every LOG_EVERY batches,
    as the course does. A non-finite loss raises Diverged. ``smoothing``:
    label smoothing (smoothed_nll); ``average``: a WeightAverage updated
    after every step; ``chooser``: a lab.common.threads.ThreadChooser that
    runs (and times) each step at its thread count.
    """
    model.train()
    count = len(batches.labels)
    total, seen = torch.zeros((), device=batches.labels.device), 0
    for index, (images, labels) in enumerate(batches):
        with chooser.step() if chooser is not None else contextlib.nullcontext():
            optimizer.zero_grad(set_to_none=True)
            loss = smoothed_nll(model(images), labels, smoothing)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if average is not None:
                average.update()
        total += loss.detach()
        seen += 1
        if index % LOG_EVERY == 0:
            print(f"Train Epoch: {epoch} [{index * batches.batch_size}/{count} "
                  f"({100.0 * index / len(batches):.0f}%)]\tLoss: {loss.item():.6f}")
        if dry_run:
            break
    return check_finite(total.item() / max(seen, 1), epoch, "loss")


def check_finite(loss, epoch, what):
    """``loss`` if it is finite; else a Diverged error saying so (nothing of the epoch is saved after it)."""
    if not math.isfinite(loss):
        raise Diverged(f"the training diverged in epoch {epoch}: the {what} became {loss} "
                       f"(try a smaller --lr); nothing of this epoch was saved")
    return loss


def prepare(model, net, device, compile_mode="auto", log=print):
    """The model to run: NetConv in channels-last memory (faster convolutions on the CPU), and where asked
    (auto: on CUDA) through torch.compile(mode="reduce-overhead"), which captures CUDA graphs so that the
    GPU is not kept waiting on Python and kernel launches. Where compiling fails, the plain model.

    Returns the module to call; the parameters stay those of ``model`` (save that one).
    """
    if net == "conv":
        model.to(memory_format=torch.channels_last)
    if compile_mode == "off" or (compile_mode == "auto" and device.type != "cuda"):
        return model
    try:
        runner = torch.compile(model, mode="reduce-overhead")
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            runner(torch.zeros(2, 1, 28, 28, device=device)).sum().backward()  # compiles now, or fails now
        model.zero_grad(set_to_none=True)
        return runner
    except Exception as err:  # no compiler, no triton, an unsupported platform...
        reason = first_line(err, type(err).__name__)[:200]
        log(f"torch.compile is not available here ({reason}); running the model without it")
        model.zero_grad(set_to_none=True)
        return model


def confusion_matrix(labels, predicted, classes=10):
    """classes x classes counts: row = true class, column = predicted class."""
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).view(classes, classes)


# Test-time averaging: the (down, right) moves of each test image, in pixels, per number of views.
VIEW_MOVES = {1: [(0, 0)], 5: [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)],
              9: [(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1)]}


def averaged_output(model, images, views=1):
    """The model's log-probabilities for ``images``; with ``views`` > 1, those of the mean probability over
    the images moved by each of VIEW_MOVES[views] (one pixel, the uncovered edge black)."""
    if views == 1:
        return model(images)
    probability = 0
    for down, right in VIEW_MOVES[views]:
        offsets = torch.tensor([[1 - down, 1 - right]], device=images.device).expand(len(images), 2)
        probability = probability + model(kmnist.shift_batch(images, offsets, 1)).exp()
    return (probability / len(VIEW_MOVES[views])).log()


@torch.no_grad()
def evaluate(model, images, labels, batch_size=1000, views=1):
    """Test the model: returns (average loss, number correct, confusion matrix as floats, predictions).

    ``views`` 5 or 9 averages each image's predicted probabilities over
    itself and its one-pixel moves (averaged_output).
    """
    if len(labels) == 0:
        raise UserError("the test split holds no images")
    model.eval()
    total_loss = torch.zeros((), device=labels.device)
    predictions = []
    for start in range(0, len(labels), batch_size):
        output = averaged_output(model, images[start:start + batch_size], views)
        total_loss += F.nll_loss(output, labels[start:start + batch_size], reduction="sum")
        predictions.append(output.argmax(dim=1))
    predicted = torch.cat(predictions)
    confusion = confusion_matrix(labels, predicted, len(kmnist.CLASSES))
    correct = int(confusion.trace())
    return total_loss.item() / len(labels), correct, confusion.cpu().numpy().astype(float), predicted.cpu()


def most_confused(confusion, top=3):
    """The ``top`` off-diagonal cells as (true name, chosen name, count), largest first."""
    off = np.asarray(confusion, dtype=float).copy()
    np.fill_diagonal(off, -1)
    size = off.shape[0]
    order = np.argsort(off, axis=None)[::-1][:top]
    return [(kmnist.CLASSES[i // size], kmnist.CLASSES[i % size], int(off.flat[i])) for i in order]


def format_pairs(pairs):
    """Confused pairs as text: ``ma -> su: 142, ...`` (true -> chosen)."""
    return ", ".join(f"{true} -> {chosen}: {count}" for true, chosen, count in pairs)
