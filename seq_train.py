"""Train an SRN or LSTM to predict the next symbol of a formal language (Part 3).

    python3 seq_train.py --lang anb2n                      # SRN, 2 hidden units
    python3 seq_train.py --lang anb2nc3n --model lstm --hid 3
    python3 seq_train.py --lang reber [--embed]

Every 1000 sequences it prints a fresh sequence step by step, then
``epoch: <thousands>`` and ``loss: <x>``; every 10,000 sequences it writes
``<out_path>/<lang>_<model><hid>_<k>.pth``. The loss is the mean squared
difference between predicted and true next-symbol probabilities (over every
position and symbol), averaged over the 1000 sequences since the last report,
each measured before the network was updated on it. The network itself
learns from the symbols that actually come next (cross-entropy), never from
the true probabilities.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from anb2n import MULTIPLIERS, make_language as make_anbn
from reber import SHORTEST, ReberLanguage
from runtime import UserError, ensure_folder, positive, run_main, seed_everything, torch_threads
from seq_models import Population, build_model, save_checkpoint

LANGS = (*MULTIPLIERS, "reber")
REPORT_EVERY = 1000
SAVE_EVERY = 10_000
UNTIL_REPORTS = 10  # --until: the loss must stay below the threshold for this many reports

# Per language and model, chosen by measurement (see the README's Part 3 results).
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


def lang_tag(lang, embed=False):
    """The language's name in file names: reber_embed for the embedded grammar."""
    return "reber_embed" if lang == "reber" and embed else lang


def make_language(lang, embed=False, length=None):
    """The sequence generator for a language (length: largest n, or Reber's minimum length)."""
    if lang not in LANGS:
        raise UserError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    if embed and lang != "reber":
        raise UserError("--embed applies to --lang reber only")
    if lang == "reber":
        length = SHORTEST if length is None else length
        if length < 0:
            raise UserError(f"--length (minimum string length) must be 0 or more, got {length}")
        return ReberLanguage(embed=embed, length=length)
    length = 4 if length is None else length
    if length < 1:
        raise UserError(f"--length (largest n) must be at least 1, got {length}")
    return make_anbn(lang, length=length)


def settings_for(lang, model, embed=False):
    """The default settings for a language and model (hid, epoch, optim, lr, mom, init, batch)."""
    return dict(DEFAULTS[(lang_tag(lang, embed), model)], mom=0.0)


def certain_given_n(inputs):
    """Mask over input positions of a counting language: true where the next symbol is certain given n.

    That is every input but an A (everything from the first B on). After
    the n-th A the generator says B is certain when n >= --length (the
    training distribution), but in a^n b^2n itself it is not: n is not yet
    known there. Used to score sequences beyond the training range.
    """
    return np.asarray(inputs) != 0


def checkpoint_path(out_path, tag, model, hid, k):
    """``<out_path>/<tag>_<model><hid>_<k>.pth``, k in thousands of sequences."""
    return os.path.join(out_path, f"{tag}_{model}{hid}_{k}.pth")


def collate(samples, num_symbols):
    """Pad a list of (seq, prob, state) samples into tensors.

    Returns x (B, T, S) one-hot inputs, target (B, T) next symbols, prob
    (B, T, S) true probabilities, mask (B, T) true where a position exists.
    """
    lengths = [len(s[1]) for s in samples]
    batch, steps = len(samples), max(lengths)
    inputs = np.zeros((batch, steps), dtype=np.int64)
    target = np.zeros((batch, steps), dtype=np.int64)
    prob = np.zeros((batch, steps, num_symbols), dtype=np.float32)
    mask = np.zeros((batch, steps), dtype=bool)
    for b, (seq, p, _) in enumerate(samples):
        n = len(p)
        inputs[b, :n], target[b, :n], prob[b, :n], mask[b, :n] = seq[:-1], seq[1:], p, True
    x = F.one_hot(torch.from_numpy(inputs), num_symbols).float()
    return x, torch.from_numpy(target), torch.from_numpy(prob), torch.from_numpy(mask)


def sequence_losses(logits, prob, mask):
    """Per sequence: mean over its positions and symbols of (predicted - true probability)^2."""
    sq = (logits.softmax(-1) - prob).square().sum(-1) * mask
    return sq.sum(1) / (mask.sum(1) * prob.shape[-1])


def evaluate(model, lang, samples):
    """Score a model on samples: mean loss, deterministic symbols right, final T/P right (embedded Reber).

    A deterministic symbol is one whose true probability is 1; it counts as
    right when the network gives it probability above 0.5.
    """
    x, target, prob, mask = collate(samples, lang.num_symbols)
    with torch.no_grad():
        _, logits = model(x)
    out = logits.softmax(-1)
    det = (prob.max(-1).values > 0.999) & mask
    right = out.gather(-1, target.unsqueeze(-1)).squeeze(-1) > 0.5
    result = {
        "loss": sequence_losses(logits, prob, mask).mean().item(),
        "det_right": int((right & det).sum()),
        "det_total": int(det.sum()),
        "sequences": len(samples),
    }
    if getattr(lang, "embed", False):
        pos = torch.tensor([lang.final_position(s[0]) for s in samples])
        rows = torch.arange(len(samples))
        result["final_right"] = int(right[rows, pos].sum())
        result["final_loss"] = (out[rows, pos] - prob[rows, pos]).square().mean().item()
    return result


def format_steps(lang, seq, hidden, out, label="hidden"):
    """The course's step-by-step printout: ``symbol= ...``, then per input its hidden units and probabilities."""
    lines = ["symbol= " + lang.decode(seq)]
    head = " ".join(f"{s:>5}" for s in lang.symbols)
    lines.append(f"in  {label:<{7 * hidden.shape[-1] - 1}}   probabilities {head}")
    for t in range(hidden.shape[0]):
        hid = " ".join(f"{v:+.3f}" for v in hidden[t].tolist())
        prob = " ".join(f"{v:5.3f}" for v in out[t].tolist())
        lines.append(f"{lang.symbols[int(seq[t])]:<3} {hid}   {' ' * 14}{prob}")
    return "\n".join(lines)


def show_sequence(model, lang, sample):
    """Run a model over one sample and format the printout."""
    x, _, _, _ = collate([sample], lang.num_symbols)
    with torch.no_grad():
        hidden, logits = model(x)
    return format_steps(lang, sample[0], hidden[0], logits[0].softmax(-1))


def verdict_lines(result, target_loss):
    """The end-of-run verdict as text."""
    share = result["det_right"] / max(result["det_total"], 1)
    ok = share >= 0.99 and result["loss"] < target_loss
    lines = [f"verdict on {result['sequences']} fresh sequences: deterministic symbols predicted "
             f"(p > 0.5) {share:.1%} ({result['det_right']}/{result['det_total']}), "
             f"mean loss {result['loss']:.4f}"]
    if "final_right" in result:
        final = result["final_right"] / result["sequences"]
        ok = ok and final >= 0.99
        lines.append(f"final T/P predicted (p > 0.5): {final:.1%} ({result['final_right']}/{result['sequences']})")
    lines.append("verdict: learned" if ok else f"verdict: not learned yet (aim: >= 99% and loss < {target_loss})")
    return lines


def make_optimizer(args, model):
    """SGD with momentum or Adam, from the flags."""
    if args.optim == "sgd":
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.mom)
    return torch.optim.Adam(model.parameters(), lr=args.lr)


class Progress:
    """How far training got: sequences seen, reported losses, the last checkpoint, the network so far."""

    def __init__(self, network):
        self.seen = 0
        self.reports = []
        self.last = None
        self.network = network  # the plain model that reports, checkpoints and the verdict use


def train(args, model, lang, rng, config, progress, log=print):
    """Train for args.epoch thousand sequences, or until --until holds, updating ``progress``.

    ``model`` is a plain model or a Population of --candidates networks.
    With a population, each report shows the candidate with the lowest loss
    over the last 1000 sequences; after --select thousand sequences that
    choice is final, and the reports, checkpoints and verdict are of that
    network alone (the others keep training but are ignored).
    """
    optimizer = make_optimizer(args, model)
    tag = lang_tag(args.lang, args.embed)
    total = args.epoch * 1000
    size = getattr(model, "size", 1)
    window_loss = torch.zeros(size)
    window_final = torch.zeros(size)
    reports = progress.reports
    chosen, final_choice = 0, size == 1
    while progress.seen < total:
        count = min(args.batch, REPORT_EVERY - progress.seen % REPORT_EVERY)
        samples = [lang.get_sequence(rng) for _ in range(count)]
        x, target, prob, mask = collate(samples, lang.num_symbols)
        _, logits = model(x)
        if size == 1:
            logits = logits.unsqueeze(2)  # (batch, time, candidates, symbols)
        picked = logits[mask]  # (positions, candidates, symbols)
        # the sum of each candidate's mean cross-entropy: every candidate gets its own gradient
        loss = F.cross_entropy(picked.reshape(-1, lang.num_symbols), target[mask].repeat_interleave(size)) * size
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            logits = logits.detach()
            window_loss += sequence_losses(logits, prob.unsqueeze(2), mask.unsqueeze(-1)).sum(0)
            if args.embed:
                rows = torch.arange(count)
                pos = torch.tensor([lang.final_position(s[0]) for s in samples])
                p = logits[rows, pos].softmax(-1)  # (batch, candidates, symbols)
                window_final += (p - prob[rows, pos].unsqueeze(1)).square().mean(-1).sum(0)
        progress.seen += count
        if progress.seen % REPORT_EVERY:
            continue
        k = progress.seen // 1000
        if not final_choice:
            chosen = int((window_loss + window_final).argmin())  # embedded Reber: the final T/P counts twice
            progress.network = model.candidate(chosen)
            final_choice = k >= args.select
        elif size > 1:
            progress.network = model.candidate(chosen)
        log(show_sequence(progress.network, lang, lang.get_sequence(rng)))
        log(f"epoch: {k}")
        reports.append(float(window_loss[chosen]) / REPORT_EVERY)
        log(f"loss: {reports[-1]:.4f}" + (f" (candidate {chosen}{', final choice' if final_choice else ''})"
                                           if size > 1 else ""))
        if size > 1 and k == args.select:
            log("candidates' losses: " + " ".join(f"{v / REPORT_EVERY:.4f}" for v in window_loss.tolist()))
        if args.embed:
            log(f"final: {float(window_final[chosen]) / REPORT_EVERY:.4f}")
        window_loss.zero_()
        window_final.zero_()
        settled = len(reports) - (args.select if size > 1 else 0)
        stop = (args.until is not None and settled >= UNTIL_REPORTS
                and max(reports[-UNTIL_REPORTS:]) < args.until)
        if progress.seen % SAVE_EVERY == 0 or progress.seen == total or stop:
            path = checkpoint_path(args.out_path, tag, args.model, args.hid, k)
            save_checkpoint(path, progress.network, config, seen=progress.seen, loss=reports[-1])
            progress.last = path
            log(f"saved {path}")
        if stop:
            log(f"stopping: the loss stayed below {args.until} for the last {UNTIL_REPORTS} reports")
            break


def build_parser():
    """The command-line flags (the course's names, plus --seed, --batch, --until, --threads)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lang", choices=LANGS, default="anb2n", help="language to learn (default: %(default)s)")
    p.add_argument("--embed", action="store_true", help="embedded Reber grammar (with --lang reber)")
    p.add_argument("--length", type=int, default=None,
                   help="largest n (anb2n family, default 4) or minimum string length (reber, default 5)")
    p.add_argument("--model", choices=("srn", "lstm"), default="srn", help="network type (default: %(default)s)")
    p.add_argument("--hid", type=positive(int), default=None,
                   help="hidden units (default: 2 for anbn and anb2n; 4 for anbncn and anb2nc3n (3 for lstm); "
                        "4 for reber, 8 for reber --embed)")
    p.add_argument("--optim", choices=("sgd", "adam"), default=None, help="optimiser (default: adam)")
    p.add_argument("--lr", type=positive(float), default=None,
                   help="learning rate (default: 0.003 for srn, 0.01 for lstm)")
    p.add_argument("--mom", type=float, default=None, help="SGD momentum (default: 0)")
    p.add_argument("--init", type=positive(float), default=None,
                   help="standard deviation of the SRN's initial weights (default: 0.5)")
    p.add_argument("--epoch", type=positive(int), default=None,
                   help="thousands of training sequences (default: 100 for srn and 50 for lstm, but 50 for both "
                        "on reber and 100 for both on reber --embed)")
    p.add_argument("--batch", type=int, default=None,
                   help="sequences per weight update; 1 is the course's online training (default: 10)")
    p.add_argument("--candidates", type=positive(int), default=None,
                   help="train this many networks side by side in one fused layer and keep the best "
                        "(1 = a single network; default: 8 for srn, 1 for lstm)")
    p.add_argument("--select", type=positive(int), default=None,
                   help="with --candidates > 1: thousands of sequences after which the best candidate "
                        "is chosen for good (default: half of --epoch)")
    p.add_argument("--until", type=positive(float), default=None,
                   help=f"stop once the loss stayed below this for {UNTIL_REPORTS} reports in a row "
                        "(default: train for all of --epoch)")
    p.add_argument("--out_path", default="net", help="folder for checkpoints (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--threads", type=positive(int), default=1,
                   help="torch CPU threads; 1 is fastest for these small networks (default: %(default)s)")
    return p


def resolve(args):
    """Fill the flags left at None from the per-language defaults and check the numbers."""
    defaults = settings_for(args.lang, args.model, args.embed)
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.optim == "adam" and args.mom != 0:
        raise UserError("--mom applies to --optim sgd only")
    if not 0 <= args.mom < 1:
        raise UserError(f"--mom must be in [0, 1), got {args.mom}")
    if not 1 <= args.batch <= REPORT_EVERY:
        raise UserError(f"--batch must be 1 to {REPORT_EVERY}, got {args.batch}")
    if args.select is None:
        args.select = max(1, args.epoch // 2)
    if args.candidates > 1 and args.select > args.epoch:
        raise UserError(f"--select ({args.select}) must not exceed --epoch ({args.epoch})")
    return args


def run(args, lang):
    """Build the network(s), train, print the verdict; returns the exit status."""
    ensure_folder(args.out_path)  # fail now rather than at the first checkpoint
    seed_everything(args.seed)
    rng = np.random.default_rng(args.seed)
    config = dict(lang=args.lang, embed=args.embed, length=lang.length, model=args.model,
                  num_input=lang.num_symbols, num_hid=args.hid, num_out=lang.num_symbols,
                  optim=args.optim, lr=args.lr, mom=args.mom, init=args.init, batch=args.batch,
                  candidates=args.candidates, select=args.select, seed=args.seed)
    if args.candidates > 1:
        model = Population(args.model, lang.num_symbols, args.hid, lang.num_symbols, args.candidates)
    else:
        model = build_model(config)
    if args.model == "srn":
        model.init_weights(args.init)
    print(f"training {args.model} with {args.hid} hidden units on {lang_tag(args.lang, args.embed)}: "
          f"{args.epoch}k sequences, {args.optim} lr {args.lr}, {args.batch} sequence(s) per update, "
          + (f"best of {args.candidates} candidates chosen at {args.select}k, " if args.candidates > 1 else "")
          + f"seed {args.seed}")
    start = time.time()
    progress = Progress(model if args.candidates == 1 else model.candidate(0))
    try:
        train(args, model, lang, rng, config, progress)
        result = evaluate(progress.network, lang, [lang.get_sequence(rng) for _ in range(100)])
    except KeyboardInterrupt:
        where = f"last checkpoint: {progress.last}" if progress.last else "no checkpoint was written yet"
        print(f"stopped by Ctrl-C after {progress.seen} sequences; {where}", file=sys.stderr)
        return 130
    for line in verdict_lines(result, TARGET_LOSS[lang_tag(args.lang, args.embed)]):
        print(line)
    print(f"trained on {progress.seen} sequences in {time.time() - start:.1f} s; last checkpoint: {progress.last}")
    return 0


def main(argv=None):
    """Parse and check the flags, then train with --threads torch threads."""
    args = build_parser().parse_args(argv)
    if args.init is not None and args.model == "lstm":
        raise UserError("--init applies to --model srn only (the LSTM keeps torch's initialisation)")
    args = resolve(args)
    lang = make_language(args.lang, args.embed, args.length)
    with torch_threads(args.threads):
        return run(args, lang)


if __name__ == "__main__":
    sys.exit(run_main(main))
