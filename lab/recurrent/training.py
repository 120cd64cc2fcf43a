"""Part 3 training: the per-language defaults, the training loop with candidates, evaluation and the verdict.

The loss reported to the user is the mean squared difference between the
predicted and the true next-symbol probabilities (over every position and
symbol), averaged over the REPORT_EVERY sequences since the last report,
each measured before the network was updated on it. The network itself
learns from the symbols that actually come next (cross-entropy), never from
the true probabilities.
"""
import copy
import math

import torch
import torch.nn.functional as F

from lab.recurrent.languages import CERTAIN, PREDICTED, collate, lang_tag
from lab.common.checkpoints import state_of
from lab.common.errors import Diverged
from lab.recurrent.series import checkpoint_path
from seq_models import save_checkpoint
from lab.recurrent.tracing import show_sequence

REPORT_EVERY = 1000  # sequences between reports
SAVE_EVERY = 10_000  # sequences between checkpoints
UNTIL_REPORTS = 10  # --until: the loss must stay below the threshold for this many reports
LEARNED_SHARE = 0.99  # the verdict: at least this share of the deterministic symbols predicted

# Per language and model, chosen by measurement (docs/results.md).
# batch: sequences per update (1 = the course's online training).
DEFAULTS = {
    ("anbn", "srn"): dict(hid=2, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anb2n", "srn"): dict(hid=2, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anbncn", "srn"): dict(hid=4, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anb2nc3n", "srn"): dict(hid=4, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("reber", "srn"): dict(hid=4, epoch=50, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("reber_embed", "srn"): dict(hid=8, epoch=100, optim="adam", lr=0.003, init=0.5, batch=10, candidates=8),
    ("anbn", "lstm"): dict(hid=2, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anb2n", "lstm"): dict(hid=2, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anbncn", "lstm"): dict(hid=3, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("anb2nc3n", "lstm"): dict(hid=3, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("reber", "lstm"): dict(hid=4, epoch=50, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
    ("reber_embed", "lstm"): dict(hid=8, epoch=100, optim="adam", lr=0.01, init=None, batch=10, candidates=1),
}
# The loss a trained network should stay below (the verdict and the benchmark use it).
TARGET_LOSS = {"anbn": 0.05, "anb2n": 0.05, "anbncn": 0.02, "anb2nc3n": 0.02, "reber": 0.02, "reber_embed": 0.02}


def settings_for(lang, model, embed=False):
    """The default settings for a language and model (hid, epoch, optim, lr, mom, init, batch, candidates)."""
    return dict(DEFAULTS[(lang_tag(lang, embed), model)], mom=0.0)


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


def make_optimizer(args, model):
    """SGD with momentum or Adam, from the flags."""
    if args.optim == "sgd":
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.mom)
    return torch.optim.Adam(model.parameters(), lr=args.lr)


def best_candidate(losses):
    """The index of the lowest finite loss; a Diverged error when none is finite."""
    finite = torch.isfinite(losses)
    if not finite.any():
        raise Diverged("the training diverged: every network's loss is NaN or infinite (try a smaller --lr)")
    return int(torch.where(finite, losses, torch.full_like(losses, math.inf)).argmin())


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


def report(args, model, lang, rng, progress, log):
    """Every REPORT_EVERY sequences: choose the candidate, print a sequence, the epoch and the loss."""
    k = progress.seen // 1000
    if not progress.final_choice:
        # embedded Reber: the final T/P counts twice
        progress.chosen = best_candidate(progress.window_loss + progress.window_final)
        progress.network = model.candidate(progress.chosen)
        progress.final_choice = k >= args.select
    elif progress.size > 1:
        progress.network = model.candidate(progress.chosen)
    log(show_sequence(progress.network, lang, lang.get_sequence(rng)))
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
    if progress.size > 1 and k == args.select:
        progress.candidate_losses = progress.last_losses
        log("candidates' losses: " + " ".join(f"{v:.4f}" for v in progress.candidate_losses))
    if lang.has_final:
        log(f"final: {float(progress.window_final[progress.chosen]) / REPORT_EVERY:.4f}")
    progress.window_loss.zero_()
    progress.window_final.zero_()


def should_stop(args, progress):
    """--until: the last UNTIL_REPORTS reports (after the final choice) all below the threshold."""
    settled = len(progress.reports) - (args.select if progress.size > 1 else 0)
    losses = [loss for _, loss in progress.reports[-UNTIL_REPORTS:]]
    return args.until is not None and settled >= UNTIL_REPORTS and max(losses) < args.until


def checkpoint_meta(args, progress, loss, seen):
    """What every Part 3 checkpoint records beside the weights."""
    return dict(seen=seen, loss=loss, seed=args.seed, candidates=progress.size,
                candidate=progress.chosen if progress.size > 1 else None, chosen_for_good=progress.final_choice)


def save_point(args, model, lang, config, progress, log, resume_state=None, optimizer=None):
    """Write the checkpoint of the network so far, with what --resume needs to go on from it
    (``resume_state(optimizer)``); before the final choice, remember the whole population."""
    k = progress.seen // 1000
    path = checkpoint_path(args.out_path, lang.tag, args.model, args.hid, k)
    if not progress.final_choice:
        progress.provisional.append((k, path, state_of(model), progress.last_losses))
    progress.last = path
    extra = {"resume": resume_state(optimizer)} if resume_state else {}
    save_checkpoint(path, progress.network, config,
                    **checkpoint_meta(args, progress, progress.reports[-1][1], progress.seen), **extra)
    log(f"saved {path}")


def rewrite_provisional(model, config, args, progress, log):
    """Once the choice is final: rewrite every earlier checkpoint with the chosen network at that time."""
    if not (progress.final_choice and progress.provisional):
        return
    scratch = copy.deepcopy(model)
    for k, path, weights, losses in progress.provisional:
        scratch.load_state_dict(weights)
        save_checkpoint(path, scratch.candidate(progress.chosen), config,
                        **checkpoint_meta(args, progress, losses[progress.chosen], k * 1000))
    log(f"rewrote {len(progress.provisional)} earlier checkpoint(s) with candidate {progress.chosen}, the network "
        "this run delivers")
    progress.provisional = []


def train(args, model, lang, rng, config, progress, log=print, optimizer=None, resume_state=None):
    """Train for args.epoch thousand sequences, or until --until holds, updating ``progress``.

    ``model`` is a plain model or a Population of --candidates networks.
    With a population, each report shows the candidate with the lowest loss
    over the last 1000 sequences; after --select thousand sequences that
    choice is final, the earlier checkpoints are rewritten with the chosen
    network, and from then on the reports, checkpoints and verdict are of
    that network alone (the others keep training but are ignored), so every
    checkpoint of a finished run holds the network it delivers.
    ``resume_state(optimizer)`` gives what a resumed run needs, stored in
    each checkpoint.
    """
    optimizer = optimizer or make_optimizer(args, model)
    total = args.epoch * 1000
    while progress.seen < total:
        count = min(args.batch, REPORT_EVERY - progress.seen % REPORT_EVERY)
        samples = [lang.get_sequence(rng) for _ in range(count)]
        logits, prob, mask = update(model, optimizer, lang, samples, progress.size)
        add_to_window(progress, lang, samples, logits, prob, mask)
        progress.seen += count
        if progress.seen % REPORT_EVERY:
            continue
        report(args, model, lang, rng, progress, log)
        stop = should_stop(args, progress)
        rewrite_provisional(model, config, args, progress, log)
        if progress.seen % SAVE_EVERY == 0 or progress.seen == total or stop:
            save_point(args, model, lang, config, progress, log, resume_state, optimizer)
        if stop:
            log(f"stopping: the loss stayed below {args.until} for the last {UNTIL_REPORTS} reports")
            break
