"""Part 2's training: full-batch Adam on the check data, with a restart when a run is stuck.

``train`` takes the network to train (check.py's ``MLP``) as an argument and
changes its weights in place; its numbers come from check_main's settings.
"""
import math

import numpy as np

from lab.check.adam import FullBatchAdam
from lab.common.errors import Diverged
from lab.common.options import FLOAT32_MAX

HOLD_EPOCHS = 2000     # 100% accuracy must hold this long to stop
REPORT_EVERY = 100     # epochs between progress lines
MIN_PROGRESS = 1e-4    # a loss drop smaller than this over --patience epochs counts as stuck
WEIGHT_DECAY = 1e-5    # Adam's, on every run and restart


def train(settings, net, x, y, log=print):
    """Train ``net`` in place with full-batch Adam, restarting from new random weights when stuck.

    ``settings`` holds the training's numbers (check_main's settings): at
    most ``epoch`` epochs at learning rate ``lr``; stops once 100% accuracy
    has held for HOLD_EPOCHS epochs; prints ``ep: ... loss: ... acc: ...``
    every REPORT_EVERY epochs. A run whose loss has not dropped by
    MIN_PROGRESS for ``patience`` epochs short of 100% starts again from
    weights drawn with standard deviation ``init``, at most ``restarts``
    times. Returns (epochs run, restarts used, whether 100% held).
    """
    epochs, lr, init = settings.epoch, settings.lr, settings.init
    restarts, patience = settings.restarts, settings.patience
    trainer = FullBatchAdam(net, x, y, lr=lr, weight_decay=WEIGHT_DECAY)
    used = held = 0
    best, last_progress = float("inf"), 0
    epoch = 0
    while epoch < epochs and held < HOLD_EPOCHS:
        epoch += 1
        held = held + 1 if trainer.step() else 0
        if epoch % REPORT_EVERY:
            continue
        loss, acc = trainer.loss(), trainer.accuracy()
        if not (math.isfinite(loss) and _fits_float32(trainer.theta)):
            raise Diverged(f"the training diverged at epoch {epoch}: the loss or the weights are no longer "
                           f"finite (try a smaller --lr)")
        log("ep:%5d loss: %6.4f acc: %5.2f" % (epoch, loss, acc))
        if loss < best - MIN_PROGRESS:
            best, last_progress = loss, epoch
        elif held == 0 and epoch - last_progress >= patience and used < restarts:
            used += 1
            log(f"no progress for {epoch - last_progress} epochs (loss {loss:.4f}, acc {acc:.2f}): "
                f"new random weights, restart {used} of at most {restarts}")
            net.init_weights(init)
            trainer = FullBatchAdam(net, x, y, lr=lr, weight_decay=WEIGHT_DECAY)
            best, last_progress = float("inf"), epoch
    if not _fits_float32(trainer.theta):
        raise Diverged(f"the training diverged by epoch {epoch}: the weights are no longer finite "
                       f"(try a smaller --lr)")
    trainer.write_to(net)
    return epoch, used, held >= HOLD_EPOCHS


def _fits_float32(theta):
    """Whether every weight is finite and small enough for the network's float32 parameters."""
    return bool(np.isfinite(theta).all() and np.abs(theta).max() < FLOAT32_MAX)
