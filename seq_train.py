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
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import os
import sys
import time

from lab.common.records import Record
from lab.common.errors import Terminated, interrupted_status, run_main
from lab.common.files import ensure_folder, refuse_file
from lab.common.locks import held
from lab.common.options import add_flags
from lab.common.figures import pyplot, save_figure
from lab.common.compute import seed_everything, torch_threads
from lab.recurrent.series import series_name
from lab.recurrent.plots import loss_figure
from lab.recurrent.recipe import recipe_settings, run_recipe
from lab.recurrent.settings import TrainSettings
from lab.recurrent.training import TARGET_LOSS, Trainer, build_network, learned, \
    verdict_lines


def build_parser():
    """The command-line flags (the course's names, plus --seed, --batch, --until, --threads): TrainSettings's."""
    return add_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]), TrainSettings)


def parse_args(argv=None):
    """The settings the flags give, the language's and model's defaults filled in where none were given."""
    return TrainSettings(**vars(build_parser().parse_args(argv)))


def describe(settings, lang):
    """The first line: what is trained, on what, how."""
    s = settings
    return (f"training {s.model} with {s.hid} hidden units on {lang.tag}: "
            f"{s.epoch}k sequences, {s.optim} lr {s.lr}, {s.batch} sequence(s) per update, "
            + (f"best of {s.candidates} candidates chosen at {s.select}k, " if s.candidates > 1 else "")
            + f"seed {s.seed}")


def results_of(settings, lang, result):
    """The run record's results of a finished run."""
    target, several = TARGET_LOSS[lang.tag], settings.candidates > 1
    return dict(reports=[{"thousands": k, "loss": loss} for k, loss in result.reports], target_loss=target,
                candidates=settings.candidates, chosen=result.chosen, chosen_at=settings.select if several else None,
                candidate_losses=result.candidate_losses, verdict=result.verdict,
                learned=learned(result.verdict, target), sequences_seen=result.seen,
                last_checkpoint=result.last_checkpoint, resumed=settings.resume)


def run(settings, lang):
    """Build the network(s), train (or go on with --resume) and print the verdict; returns the run's results,
    or the exit status when stopped by Ctrl-C (130) or SIGTERM (143)."""
    seed_everything(settings.seed)
    if settings.recipe:
        settings = recipe_settings(settings)
        print(describe(settings, lang) + ", the counting recipe")
        try:
            return run_recipe(settings, lang)
        except KeyboardInterrupt as err:
            print(f"stopped by {'SIGTERM' if isinstance(err, Terminated) else 'Ctrl-C'}; the recipe writes its "
                  "network at the end, so nothing was written", file=sys.stderr)
            return interrupted_status(err)[0]
    trainer = Trainer(settings, build_network(settings, lang), lang)
    print(describe(settings, lang))
    start = time.time()
    if settings.resume:
        trainer.resume()
    try:
        result = trainer.run()
    except KeyboardInterrupt as err:
        progress = trainer.progress
        where = f"last checkpoint: {progress.last}" if progress.last else "no checkpoint was written yet"
        print(f"stopped by {'SIGTERM' if isinstance(err, Terminated) else 'Ctrl-C'} after {progress.seen} sequences; "
              f"{where}" + ("; go on with --resume" if progress.last else ""), file=sys.stderr)
        return interrupted_status(err)[0]
    for line in verdict_lines(result.verdict, TARGET_LOSS[lang.tag]):
        print(line)
    print(f"trained on {result.seen} sequences in {time.time() - start:.1f} s; "
          f"last checkpoint: {result.last_checkpoint}")
    return results_of(settings, lang, result)


def draw_loss(settings, name, results):
    """The reported loss over training, with the target and the moment of the choice; returns the path."""
    fig = loss_figure(pyplot(), [r["thousands"] for r in results["reports"]], [r["loss"] for r in results["reports"]],
                      results["target_loss"], results["chosen_at"], f"{name}: reported loss over training")
    return save_figure(fig, os.path.join(settings.plot_path, name + "_loss.jpg"), dpi=100)


def main(argv=None):
    """Parse and check the flags, then train with --threads torch threads, draw the loss and write the record."""
    settings = parse_args(argv)
    lang = settings.language()
    refuse_file(settings.out_path, "--out_path")
    refuse_file(settings.plot_path, "--plot_path")
    ensure_folder(settings.out_path)  # fail now rather than at the first checkpoint
    record = Record("seq_train.py", argv, settings.as_config())
    name = series_name(lang.tag, settings.model, settings.hid)
    with held(os.path.join(settings.out_path, name + ".lock"), f"{name}_<k>.pth in {settings.out_path}"), \
            torch_threads(settings.threads):
        results = run(settings, lang)
    if isinstance(results, int):  # stopped by Ctrl-C (130) or SIGTERM (143)
        return results
    record.results.update(results)
    record.wrote(results["last_checkpoint"])
    if results["reports"]:
        ensure_folder(settings.plot_path)
        record.wrote(draw_loss(settings, name, results))
    record.write(os.path.join(settings.out_path, name + ".json"), threads=settings.threads)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
