"""Part 1 training and testing: one epoch of SGD, the test pass, the confusion matrix and its read-outs.

``train_epoch`` prints the course's loss line every 100 batches and returns
the epoch's mean training loss; ``evaluate`` returns the test loss, the
number right, the 10x10 confusion matrix (rows: true class, columns: the
network's choice) and the predictions; ``most_confused`` reads the largest
off-diagonal cells.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

import kmnist
from runtime import UserError

LOG_EVERY = 100  # batches between the course's "Train Epoch" lines


class Diverged(UserError):
    """The training loss became NaN or infinite."""


def make_scheduler(optimizer, schedule, steps):
    """The learning-rate schedule over ``steps`` optimiser steps: cosine decay to 0, or constant."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def train_epoch(model, optimizer, scheduler, batches, epoch, dry_run=False):
    """One pass over the training batches; returns the mean training loss over the batches.

    Prints ``Train Epoch: e [n/N (p%)]\\tLoss: x`` every LOG_EVERY batches,
    as the course does. A non-finite loss raises Diverged.
    """
    model.train()
    count = len(batches.labels)
    total, seen = torch.zeros((), device=batches.labels.device), 0
    for index, (images, labels) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.detach()
        seen += 1
        if index % LOG_EVERY == 0:
            print(f"Train Epoch: {epoch} [{index * batches.batch_size}/{count} "
                  f"({100.0 * index / len(batches):.0f}%)]\tLoss: {loss.item():.6f}")
        if dry_run:
            break
    mean = total.item() / max(seen, 1)
    if not math.isfinite(mean):
        raise Diverged(f"the training diverged in epoch {epoch}: the loss became {mean} "
                       f"(try a smaller --lr); nothing of this epoch was saved")
    return mean


def confusion_matrix(labels, predicted, classes=10):
    """classes x classes counts: row = true class, column = predicted class."""
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).view(classes, classes)


@torch.no_grad()
def evaluate(model, images, labels, batch_size=1000):
    """Test the model: returns (average loss, number correct, confusion matrix as floats, predictions)."""
    if len(labels) == 0:
        raise UserError("the test split holds no images")
    model.eval()
    total_loss = torch.zeros((), device=labels.device)
    predictions = []
    for start in range(0, len(labels), batch_size):
        output = model(images[start:start + batch_size])
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
