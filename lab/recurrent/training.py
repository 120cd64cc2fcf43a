"""Part 3 training: a training run with candidates (``Trainer``), evaluation and the verdict.

The loss reported to the user is the mean squared difference between the
predicted and the true next-symbol probabilities (over every position and
symbol), averaged over the REPORT_EVERY sequences since the last report,
each measured before the network was updated on it. The network itself
learns from the symbols that actually come next (cross-entropy), never from
the true probabilities.
"""
import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lab.recurrent.languages import CERTAIN, PREDICTED, collate
from lab.common.checkpoints import load_optimizer, load_weights, state_of
from lab.common.errors import Diverged, UserError
from lab.recurrent.series import checkpoint_path, load_resume_state, resume_state
from lab.recurrent.settings import REPORT_EVERY, UNTIL_REPORTS
from seq_models import Population, build_model, save_checkpoint
from lab.recurrent.tracing import show_sequence

SAVE_EVERY = 10_000  # sequences between checkpoints
LEARNED_SHARE = 0.99  # the verdict: at least this share of the deterministic symbols predicted
VERDICT_SEQUENCES = 100  # fresh sequences the verdict at the end of a run is drawn on
# The loss a trained network should stay below (the verdict and the benchmark use it).
TARGET_LOSS = {"anbn": 0.05, "anb2n": 0.05, "anbncn": 0.02, "anb2nc3n": 0.02, "reber": 0.02, "reber_embed": 0.02}


def sequence_losses(logits, prob, mask):
    """Per sequence: mean over its positions and symbols of (predicted - true probability)^2."""
    sq = (logits.softmax(-1) - prob).square().sum(-1) * mask
    return sq.sum(1) / (mask.sum(1) * prob.shape[-1])


def evaluate(model, lang, samples):
    """Score a model on samples: mean loss, deterministic symbols right, final T/P right (embedded Reber).

    A deterministic symbol is one whose true probability is 1 (above
    CERTAIN); it counts as right when the network gives it a probability
    above PREDICTED.
    """
    x, target, prob, mask = collate(samples, lang.num_symbols)
    with torch.no_grad():
        _, logits = model(x)
    out = logits.softmax(-1)
    det = (prob.max(-1).values > CERTAIN) & mask
    right = out.gather(-1, target.unsqueeze(-1)).squeeze(-1) > PREDICTED
    result = {
        "loss": sequence_losses(logits, prob, mask).mean().item(),
        "det_right": int((right & det).sum()),
        "det_total": int(det.sum()),
        "sequences": len(samples),
    }
    if lang.has_final:
        pos = torch.tensor([lang.final_position(s[0]) for s in samples])
        rows = torch.arange(len(samples))
        result["final_right"] = int(right[rows, pos].sum())
        result["final_loss"] = (out[rows, pos] - prob[rows, pos]).square().mean().item()
    return result


def learned(result, target_loss):
    """Whether a result meets the verdict: LEARNED_SHARE of the deterministic symbols, loss below the target."""
    share = result["det_right"] / max(result["det_total"], 1)
    ok = share >= LEARNED_SHARE and result["loss"] < target_loss
    if "final_right" in result:
        ok = ok and result["final_right"] / result["sequences"] >= LEARNED_SHARE
    return ok


def verdict_lines(result, target_loss):
    """The end-of-run verdict as text."""
    share = result["det_right"] / max(result["det_total"], 1)
    lines = [f"verdict on {result['sequences']} fresh sequences: deterministic symbols predicted "
             f"(p > {PREDICTED}) {share:.1%} ({result['det_right']}/{result['det_total']}), "
             f"mean loss {result['loss']:.4f}"]
    if "final_right" in result:
        final = result["final_right"] / result["sequences"]
        lines.append(f"final T/P predicted (p > {PREDICTED}): {final:.1%} "
                     f"({result['final_right']}/{result['sequences']})")
    lines.append("verdict: learned" if learned(result, target_loss)
                 else f"verdict: not learned yet (aim: >= {LEARNED_SHARE:.0%} and loss < {target_loss})")
    return lines


def make_optimizer(settings, model):
    """SGD with momentum or Adam (``settings.optim``), with the settings' learning rate."""
    if settings.optim == "sgd":
        return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.mom)
    return torch.optim.Adam(model.parameters(), lr=settings.lr)


def build_network(settings, lang):
    """The untrained network the settings describe for ``lang``: one model (seq_models.build_model), or a
    Population of ``candidates``; an SRN's weights drawn from N(0, init^2). Draws from torch's generator."""
    config = settings.model_config(lang)
    if settings.candidates > 1:
        model = Population(settings.model, lang.num_symbols, settings.hid, lang.num_symbols, settings.candidates)
    else:
        model = build_model(config)
    if settings.model == "srn":
        model.init_weights(settings.init)
    return model


def best_candidate(losses):
    """The index of the lowest finite loss; a Diverged error when none is finite."""
    finite = torch.isfinite(losses)
    if not finite.any():
        raise Diverged("the training diverged: every network's loss is NaN or infinite (try a smaller --lr)")
    return int(torch.where(finite, losses, torch.full_like(losses, math.inf)).argmin())


def should_stop(progress, until, select):
    """--until: the last UNTIL_REPORTS reports (after the final choice at ``select`` thousand, with candidates)
    all below ``until``; never when ``until`` is None."""
    settled = len(progress.reports) - (select if progress.size > 1 else 0)
    losses = [loss for _, loss in progress.reports[-UNTIL_REPORTS:]]
    return until is not None and settled >= UNTIL_REPORTS and max(losses) < until


class Progress:
    """How far training got: sequences seen, reports, the choice of candidate, the last checkpoint.

    Before the choice of candidate is final, ``provisional`` keeps, for each
    checkpoint written so far, the whole population's weights and every
    candidate's loss, so that the checkpoints can be rewritten with the
    chosen network once the choice is made.
    """

    def __init__(self, network, size):
        self.seen = 0
        self.reports = []  # (thousands of sequences, loss)
        self.last = None
        self.network = network  # the plain model that reports, checkpoints and the verdict use
        self.size = size
        self.chosen, self.final_choice = 0, size == 1
        self.candidate_losses = None
        self.window_loss = torch.zeros(size)
        self.window_final = torch.zeros(size)
        self.provisional = []  # (k, path, population weights, every candidate's loss at k)
        self.last_losses = None  # every candidate's loss at the last report

    def plain(self):
        """What a resumed run needs to go on, as plain data."""
        return {"seen": self.seen, "reports": self.reports, "last": self.last, "chosen": self.chosen,
                "final_choice": self.final_choice, "candidate_losses": self.candidate_losses,
                "provisional": self.provisional}

    def restore(self, saved, model):
        """Go on from ``plain()``'s data; ``model`` is the network or population being trained."""
        self.seen, self.last, self.chosen = saved["seen"], saved["last"], saved["chosen"]
        self.reports = [tuple(r) for r in saved["reports"]]
        self.final_choice, self.candidate_losses = saved["final_choice"], saved["candidate_losses"]
        self.provisional = [tuple(p) for p in saved["provisional"]]
        self.network = model.candidate(self.chosen) if self.size > 1 else model


def update(model, optimizer, lang, samples, size):
    """One weight update on ``samples``; returns (detached logits (batch, time, candidates, symbols), prob, mask)."""
    x, target, prob, mask = collate(samples, lang.num_symbols)
    _, logits = model(x)
    if size == 1:
        logits = logits.unsqueeze(2)
    picked = logits[mask]  # (positions, candidates, symbols)
    # the sum of each candidate's mean cross-entropy: every candidate gets its own gradient
    loss = F.cross_entropy(picked.reshape(-1, lang.num_symbols), target[mask].repeat_interleave(size)) * size
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return logits.detach(), prob, mask


def add_to_window(progress, lang, samples, logits, prob, mask):
    """Add each candidate's losses on this batch (scored before the update) to the report window."""
    with torch.no_grad():
        progress.window_loss += sequence_losses(logits, prob.unsqueeze(2), mask.unsqueeze(-1)).sum(0)
        if lang.has_final:
            rows = torch.arange(len(samples))
            pos = torch.tensor([lang.final_position(s[0]) for s in samples])
            p = logits[rows, pos].softmax(-1)  # (batch, candidates, symbols)
            progress.window_final += (p - prob[rows, pos].unsqueeze(1)).square().mean(-1).sum(0)


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced."""

    network: torch.nn.Module  # the plain network the run delivers (the chosen candidate)
    reports: list  # (thousands of sequences, loss) at every report
    seen: int  # sequences trained on, a resumed run's earlier ones included
    last_checkpoint: str | None
    chosen: int | None  # the chosen candidate; None for a single network
    candidate_losses: list | None  # every candidate's loss when the choice became final
    verdict: dict  # evaluate() on VERDICT_SEQUENCES fresh sequences


class Trainer:
    """One Part 3 training run: it owns the network being trained (one model, or a Population of candidates),
    its optimiser, the sequence generator and the progress; ``run`` trains and returns a TrainingResult.

    With candidates, each report shows the candidate with the lowest loss
    over the last REPORT_EVERY sequences; after ``select`` thousand
    sequences that choice is final, the earlier checkpoints are rewritten
    with the chosen network, and from then on the reports, checkpoints and
    verdict are of that network alone (the others keep training but are
    ignored), so every checkpoint of a finished run holds the network it
    delivers. Each checkpoint also holds what ``resume`` needs to go on
    exactly where the run was.
    """

    def __init__(self, settings, model, lang, log=print):
        self.settings, self.model, self.lang, self.log = settings, model, lang, log
        self.config = settings.model_config(lang)
        self.optimizer = make_optimizer(settings, model)
        self.rng = np.random.default_rng(settings.seed)
        size = settings.candidates
        self.progress = Progress(model if size == 1 else model.candidate(0), size)

    def resume(self):
        """Go on from the last checkpoint of the same run: its weights, optimiser, generator and progress."""
        settings, progress = self.settings, self.progress
        path, saved = load_resume_state(settings.out_path, self.lang.tag, settings.model, settings.hid,
                                        settings.as_config())
        if saved["progress"]["seen"] >= settings.epoch * 1000:
            raise UserError(f"--resume: {path} has already seen {saved['progress']['seen']} sequences; "
                            f"give an --epoch above {saved['progress']['seen'] // 1000} to go on")
        load_weights(path, self.model, saved["model"])
        load_optimizer(path, self.optimizer, saved["optimizer"])
        self.rng.bit_generator.state = saved["rng"]
        progress.restore(saved["progress"], self.model)
        self.log(f"resuming from {path}: {progress.seen} sequences seen, last checkpoint {progress.last}")

    def run(self):
        """Train up to ``epoch`` thousand sequences, or until ``until`` holds; returns a TrainingResult."""
        settings, progress = self.settings, self.progress
        total = settings.epoch * 1000
        while progress.seen < total:
            self.step()
            if progress.seen % REPORT_EVERY:
                continue
            self.report()
            stop = should_stop(progress, settings.until, settings.select)
            self.rewrite_provisional()
            if progress.seen % SAVE_EVERY == 0 or progress.seen == total or stop:
                self.save_point()
            if stop:
                self.log(f"stopping: the loss stayed below {settings.until} for the last {UNTIL_REPORTS} reports")
                break
        samples = [self.lang.get_sequence(self.rng) for _ in range(VERDICT_SEQUENCES)]
        return TrainingResult(network=progress.network, reports=list(progress.reports), seen=progress.seen,
                              last_checkpoint=progress.last, chosen=progress.chosen if progress.size > 1 else None,
                              candidate_losses=progress.candidate_losses,
                              verdict=evaluate(progress.network, self.lang, samples))

    def step(self):
        """One weight update on a batch of fresh sequences, their losses added to the report window."""
        progress = self.progress
        count = min(self.settings.batch, REPORT_EVERY - progress.seen % REPORT_EVERY)
        samples = [self.lang.get_sequence(self.rng) for _ in range(count)]
        logits, prob, mask = update(self.model, self.optimizer, self.lang, samples, progress.size)
        add_to_window(progress, self.lang, samples, logits, prob, mask)
        progress.seen += count

    def report(self):
        """Every REPORT_EVERY sequences: choose the candidate, print a sequence, the epoch and the loss."""
        progress, log, select = self.progress, self.log, self.settings.select
        k = progress.seen // 1000
        if not progress.final_choice:
            # embedded Reber: the final T/P counts twice
            progress.chosen = best_candidate(progress.window_loss + progress.window_final)
            progress.network = self.model.candidate(progress.chosen)
            progress.final_choice = k >= select
        elif progress.size > 1:
            progress.network = self.model.candidate(progress.chosen)
        log(show_sequence(progress.network, self.lang, self.lang.get_sequence(self.rng)))
        log(f"epoch: {k}")
        loss = float(progress.window_loss[progress.chosen]) / REPORT_EVERY
        if not math.isfinite(loss):
            raise Diverged(f"the training diverged after {progress.seen} sequences: the loss is {loss} "
                           "(try a smaller --lr)")
        progress.reports.append((k, loss))
        progress.last_losses = [v / REPORT_EVERY for v in progress.window_loss.tolist()]
        which = ""
        if progress.size > 1:
            which = f" (candidate {progress.chosen}{', final choice' if progress.final_choice else ''})"
        log(f"loss: {loss:.4f}" + which)
        if progress.size > 1 and k == select:
            progress.candidate_losses = progress.last_losses
            log("candidates' losses: " + " ".join(f"{v:.4f}" for v in progress.candidate_losses))
        if self.lang.has_final:
            log(f"final: {float(progress.window_final[progress.chosen]) / REPORT_EVERY:.4f}")
        progress.window_loss.zero_()
        progress.window_final.zero_()

    def checkpoint_meta(self, loss, seen):
        """What every Part 3 checkpoint records beside the weights."""
        progress = self.progress
        return dict(seen=seen, loss=loss, seed=self.settings.seed, candidates=progress.size,
                    candidate=progress.chosen if progress.size > 1 else None, chosen_for_good=progress.final_choice)

    def save_point(self):
        """Write the checkpoint of the network so far, with what ``resume`` needs to go on from it; before the
        final choice, remember the whole population."""
        settings, progress = self.settings, self.progress
        k = progress.seen // 1000
        path = checkpoint_path(settings.out_path, self.lang.tag, settings.model, settings.hid, k)
        if not progress.final_choice:
            progress.provisional.append((k, path, state_of(self.model), progress.last_losses))
        progress.last = path
        state = resume_state(settings.as_config(), self.model, self.optimizer, self.rng, progress)
        save_checkpoint(path, progress.network, self.config,
                        **self.checkpoint_meta(progress.reports[-1][1], progress.seen), resume=state)
        self.log(f"saved {path}")

    def rewrite_provisional(self):
        """Once the choice is final: rewrite every earlier checkpoint with the chosen network at that time."""
        progress = self.progress
        if not (progress.final_choice and progress.provisional):
            return
        scratch = copy.deepcopy(self.model)
        for k, path, weights, losses in progress.provisional:
            scratch.load_state_dict(weights)
            save_checkpoint(path, scratch.candidate(progress.chosen), self.config,
                            **self.checkpoint_meta(losses[progress.chosen], k * 1000))
        self.log(f"rewrote {len(progress.provisional)} earlier checkpoint(s) with candidate {progress.chosen}, "
                 "the network this run delivers")
        progress.provisional = []


def train(settings, model, lang, log=print):
    """Train ``model`` (from build_network) on ``lang`` as the settings say, from the start; returns a
    TrainingResult (see Trainer, which also goes on from a checkpoint)."""
    return Trainer(settings, model, lang, log).run()
