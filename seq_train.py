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
the true probabilities. At the end it draws the reported loss over training
(``<plot_path>/<lang>_<model><hid>_loss.jpg``) and writes a record of the run
next to the checkpoints (``<out_path>/<lang>_<model><hid>.json``).
"""
import argparse
import os
import sys
import time

import numpy as np

from lab.recurrent.languages import LANGS, make_language
from lab.common.records import Record
from lab.common.errors import UserError, run_main
from lab.common.files import ensure_folder, refuse_file
from lab.common.locks import exclusive
from lab.common.options import number, positive, seed_number
from lab.common.figures import pyplot, save_figure
from lab.common.compute import seed_everything, torch_threads
from lab.recurrent.series import load_resume_state, resume_state, series_name
from seq_models import Population, build_model
from lab.recurrent.plots import loss_figure
from lab.recurrent.training import REPORT_EVERY, TARGET_LOSS, UNTIL_REPORTS, Progress, evaluate, learned, make_optimizer, settings_for, train, verdict_lines


def build_parser():
    """The command-line flags (the course's names, plus --seed, --batch, --until, --threads)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lang", choices=LANGS, default="anb2n", help="language to learn (default: %(default)s)")
    p.add_argument("--embed", action="store_true", help="embedded Reber grammar (with --lang reber)")
    p.add_argument("--length", type=number(int, low=0), default=None,
                   help="largest n (anb2n family, default 4) or minimum string length (reber, default 5)")
    p.add_argument("--model", choices=("srn", "lstm"), default="srn", help="network type (default: %(default)s)")
    p.add_argument("--hid", type=number(int, low=1, high=1024), default=None,
                   help="hidden units (default: 2 for anbn and anb2n; 4 for anbncn and anb2nc3n (3 for lstm); "
                        "4 for reber, 8 for reber --embed)")
    p.add_argument("--optim", choices=("sgd", "adam"), default=None, help="optimiser (default: adam)")
    p.add_argument("--lr", type=positive(float), default=None,
                   help="learning rate (default: 0.003 for srn, 0.01 for lstm)")
    p.add_argument("--mom", type=number(float, low=0), default=None, help="SGD momentum (default: 0)")
    p.add_argument("--init", type=positive(float), default=None,
                   help="standard deviation of the SRN's initial weights (default: 0.5)")
    p.add_argument("--epoch", type=positive(int), default=None,
                   help="thousands of training sequences (default: 100 for srn and 50 for lstm, but 50 for both "
                        "on reber and 100 for both on reber --embed)")
    p.add_argument("--batch", type=number(int, low=1, high=REPORT_EVERY), default=None,
                   help="sequences per weight update; 1 is the course's online training (default: 10)")
    p.add_argument("--candidates", type=number(int, low=1, high=64), default=None,
                   help="train this many networks side by side in one fused layer and keep the best "
                        "(1 = a single network; default: 8 for srn, 1 for lstm)")
    p.add_argument("--select", type=positive(int), default=None,
                   help="with --candidates > 1: thousands of sequences after which the best candidate "
                        "is chosen for good (default: half of --epoch)")
    p.add_argument("--until", type=positive(float), default=None,
                   help=f"stop once the loss stayed below this for {UNTIL_REPORTS} reports in a row "
                        "(default: train for all of --epoch)")
    p.add_argument("--out_path", "--out-path", dest="out_path", default="net",
                   help="folder for checkpoints and the run record (default: %(default)s)")
    p.add_argument("--plot_path", "--plot-dir", dest="plot_path", default="plot",
                   help="folder for the loss curve (default: %(default)s)")
    p.add_argument("--seed", type=seed_number(), default=0, help="random seed, 0 to 2**32-1 (default: %(default)s)")
    p.add_argument("--resume", action="store_true",
                   help="go on from the last checkpoint of the same run (same flags; --epoch may be larger), "
                        "with its optimiser state and sequence generator, as if never stopped")
    p.add_argument("--threads", type=positive(int), default=1,
                   help="torch CPU threads; 1 is fastest for these small networks (default: %(default)s)")
    return p


def resolve(args):
    """Fill the flags left at None from the per-language defaults and check the numbers."""
    if args.init is not None and args.model == "lstm":
        raise UserError("--init applies to --model srn only (the LSTM keeps torch's initialisation)")
    defaults = settings_for(args.lang, args.model, args.embed)
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.optim == "adam" and args.mom != 0:
        raise UserError("--mom applies to --optim sgd only")
    if not args.mom < 1:
        raise UserError(f"--mom must be below 1, got {args.mom}")
    if args.select is None:
        args.select = max(1, args.epoch // 2)
    if args.candidates > 1 and args.select > args.epoch:
        raise UserError(f"--select ({args.select}) must not exceed --epoch ({args.epoch})")
    return args


def build_network(args, lang):
    """The config that rebuilds the network, and the network (or the population of candidates) to train."""
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
    return config, model


def describe(args, lang):
    """The first line: what is trained, on what, how."""
    return (f"training {args.model} with {args.hid} hidden units on {lang.tag}: "
            f"{args.epoch}k sequences, {args.optim} lr {args.lr}, {args.batch} sequence(s) per update, "
            + (f"best of {args.candidates} candidates chosen at {args.select}k, " if args.candidates > 1 else "")
            + f"seed {args.seed}")


def resume(args, lang, model, optimizer, rng, progress):
    """--resume: load the saved run into the model, optimiser, generator and progress."""
    path, saved = load_resume_state(args.out_path, lang.tag, args.model, args.hid, vars(args))
    if saved["progress"]["seen"] >= args.epoch * 1000:
        raise UserError(f"--resume: {path} has already seen {saved['progress']['seen']} sequences; "
                        f"give an --epoch above {saved['progress']['seen'] // 1000} to go on")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    rng.bit_generator.state = saved["rng"]
    progress.restore(saved["progress"], model)
    print(f"resuming from {path}: {progress.seen} sequences seen, last checkpoint {progress.last}")


def run(args, lang, record):
    """Build the network(s), train (or go on with --resume), print the verdict; returns the exit status."""
    seed_everything(args.seed)
    rng = np.random.default_rng(args.seed)
    config, model = build_network(args, lang)
    optimizer = make_optimizer(args, model)
    print(describe(args, lang))
    start = time.time()
    progress = Progress(model if args.candidates == 1 else model.candidate(0), args.candidates)
    if args.resume:
        resume(args, lang, model, optimizer, rng, progress)
    state = lambda opt: resume_state(vars(args), model, opt, rng, progress)
    try:
        train(args, model, lang, rng, config, progress, optimizer=optimizer, resume_state=state)
        result = evaluate(progress.network, lang, [lang.get_sequence(rng) for _ in range(100)])
    except KeyboardInterrupt:
        where = f"last checkpoint: {progress.last}" if progress.last else "no checkpoint was written yet"
        print(f"stopped by Ctrl-C after {progress.seen} sequences; {where}"
              + ("; go on with --resume" if progress.last else ""), file=sys.stderr)
        return 130
    for line in verdict_lines(result, TARGET_LOSS[lang.tag]):
        print(line)
    print(f"trained on {progress.seen} sequences in {time.time() - start:.1f} s; last checkpoint: {progress.last}")
    record.results.update(
        reports=[{"thousands": k, "loss": loss} for k, loss in progress.reports], target_loss=TARGET_LOSS[lang.tag],
        candidates=args.candidates, chosen=progress.chosen if args.candidates > 1 else None,
        chosen_at=args.select if args.candidates > 1 else None, candidate_losses=progress.candidate_losses,
        verdict=result, learned=learned(result, TARGET_LOSS[lang.tag]), sequences_seen=progress.seen,
        last_checkpoint=progress.last, resumed=args.resume)
    record.wrote(progress.last)
    return 0


def draw_loss(args, name, record):
    """The reported loss over training, with the target and the moment of the choice; returns the path."""
    results = record.results
    fig = loss_figure(pyplot(), [r["thousands"] for r in results["reports"]], [r["loss"] for r in results["reports"]],
                      results["target_loss"], results["chosen_at"], f"{name}: reported loss over training")
    return save_figure(fig, os.path.join(args.plot_path, name + "_loss.jpg"), dpi=100)


def main(argv=None):
    """Parse and check the flags, then train with --threads torch threads, draw the loss and write the record."""
    args = resolve(build_parser().parse_args(argv))
    lang = make_language(args.lang, args.embed, args.length)
    refuse_file(args.out_path, "--out_path")
    refuse_file(args.plot_path, "--plot_path")
    ensure_folder(args.out_path)  # fail now rather than at the first checkpoint
    record = Record("seq_train.py", argv, vars(args))
    name = series_name(lang.tag, args.model, args.hid)
    with exclusive(os.path.join(args.out_path, name + ".lock"), f"{name}_<k>.pth in {args.out_path}"), \
            torch_threads(args.threads):
        status = run(args, lang, record)
    if status:
        return status
    if record.results["reports"]:
        ensure_folder(args.plot_path)
        record.wrote(draw_loss(args, name, record))
    record.write(os.path.join(args.out_path, name + ".json"), threads=args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
