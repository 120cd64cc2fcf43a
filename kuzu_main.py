"""Train and test NetLin, NetFull or NetConv on Kuzushiji-MNIST.

    python3 kuzu_main.py --net conv

prints the course's loss lines, the confusion matrix and the accuracy after
every epoch, then the most-confused pairs, the parameter count and the wall
time; saves a confusion heatmap, a grid of test examples and the training
curve in --plot-dir, and a record of the run (kuzu_<net>.json) beside them.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import contextlib
import os
import sys
import time

import numpy as np
import torch

from lab.characters import kmnist
from kuzu import NETS, PLAIN_TRAINING, build_model, load_checkpoint, parameter_arithmetic, save_kuzu_checkpoint
from lab.characters.settings import Settings
from lab.common.checkpoints import check_same_settings, load_optimizer, load_weights
from lab.characters.confusions import explain_pairs, linear_weights, pair_sentences
from lab.characters.pair_plots import plot_pairs
from lab.characters.plots import plot_confusion, plot_curve, plot_samples
from lab.characters.training import SCHEDULES, VIEW_MOVES, WeightAverage, check_finite, evaluate, format_pairs, make_optimizer, make_scheduler, most_confused, prepare, train_epoch
from lab.common.records import Record
from lab.common.errors import UserError, run_main
from lab.common.files import ensure_folder, refuse_file
from lab.common.locks import held
from lab.common.options import number, positive, seed_number
from lab.common.compute import pick_device, seed_everything, torch_threads
from lab.common.threads import ThreadChooser, candidate_counts


def build_parser():
    """The command line, compatible with the course's kuzu_main.py."""
    parser = argparse.ArgumentParser(description="Train and test a classifier on Kuzushiji-MNIST (KMNIST).")
    parser.add_argument("--net", choices=NETS, default="full", help="lin, full or conv (default full)")
    parser.add_argument("--lr", type=positive(float), default=None,
                        help="learning rate, the peak of onecycle (default 0.01; full 0.02, conv 0.08)")
    parser.add_argument("--mom", type=number(float, low=0), default=None, help="momentum (default 0.5; full and conv 0.9)")
    parser.add_argument("--epochs", type=positive(int), default=10, help="number of training epochs (default 10)")
    parser.add_argument("--no_cuda", action="store_true", help="never use CUDA")
    parser.add_argument("--hid", type=number(int, low=1, high=100_000), default=500, help="hidden units of NetFull (default 500)")
    parser.add_argument("--conv1", type=number(int, low=1, high=4096), default=16, help="filters in NetConv's first layer (default 16)")
    parser.add_argument("--conv2", type=number(int, low=1, high=4096), default=32, help="filters in NetConv's second layer (default 32)")
    parser.add_argument("--fc", type=number(int, low=1, high=100_000), default=256, help="units in NetConv's hidden layer (default 256)")
    parser.add_argument("--dropout", type=number(float, low=0), default=0.2, help="NetConv's dropout before the output (default 0.2)")
    parser.add_argument("--shift", type=number(int, low=0), default=None,
                        help="random shift of training images by up to this many pixels (default 0; conv 2)")
    parser.add_argument("--schedule", choices=SCHEDULES, default=None,
                        help="learning rate over the run, stepped per batch: one cycle peaking at --lr, cosine decay "
                             "to 0, or constant (default cosine; conv onecycle)")
    parser.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                        help="Nesterov momentum (default: on for conv, off for lin and full)")
    parser.add_argument("--wd", type=number(float, low=0), default=None,
                        help="weight decay: SGD adds this times each weight to its gradient (default 0)")
    parser.add_argument("--ema", type=number(float, low=0), default=None,
                        help="test (and save) an exponential moving average of the weights with this decay per "
                             "step, e.g. 0.999; 0 is off (default 0)")
    parser.add_argument("--smoothing", type=number(float, low=0), default=None,
                        help="label smoothing: the training target gives this much of its weight evenly to all "
                             "classes (default 0; conv 0.1)")
    parser.add_argument("--tta", type=int, choices=sorted(VIEW_MOVES), default=None,
                        help="final test: average each image's prediction over this many views, itself and its "
                             "one-pixel moves (default 1: the image alone; conv 5)")
    parser.add_argument("--erase", type=number(int, low=0), default=None,
                        help="cutout: black out a square of this side around a random pixel of each training "
                             "image (default 0: none)")
    parser.add_argument("--batch-size", type=number(int, low=1, high=60_000), default=64, help="training batch size (default 64)")
    parser.add_argument("--seed", type=seed_number(), default=1, help="random seed, 0 to 2**32-1 (default 1)")
    parser.add_argument("--threads", type=positive(int), default=None,
                        help="torch CPU threads (default: chosen while training, by timing steps at 1, 2, ... "
                             "threads up to every core, and chosen again when the machine's load changes)")
    parser.add_argument("--data", default=None,
                        help="data directory holding KMNIST/raw/ (default $KMNIST_DATA, else ./data)")
    parser.add_argument("--no-download", action="store_true", help="never try to download missing data")
    parser.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                        help="run the model through torch.compile(mode='reduce-overhead') (CUDA graphs): auto does "
                             "so on CUDA only; it falls back to plain execution where compiling fails (default auto)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="where to train (default auto: cuda, then mps, then cpu)")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="save a checkpoint (weights and settings) here after every epoch")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the checkpoint in --save (same flags), after its last epoch, as if never stopped")
    parser.add_argument("--plot-dir", "--plot_path", dest="plot_dir", default="plot",
                        help="folder for the plots and the run record (default plot)")
    parser.add_argument("--dry-run", action="store_true",
                        help="one epoch of a single batch, to check the setup (files named kuzu_<net>_dry-run_*)")
    return parser


def parse_args(argv):
    """The settings the flags give, each net's own defaults filled in where none were given."""
    parser = build_parser()
    try:
        return Settings(**vars(parser.parse_args(argv)))
    except UserError as err:  # flags that do not fit together: a usage error, as argparse's own
        parser.error(str(err))


def check_outputs(settings):
    """Fail before training, not after, when the outputs cannot be written."""
    refuse_file(settings.plot_dir, "--plot-dir")
    if settings.save:
        if os.path.isdir(settings.save):
            raise UserError(f"--save {settings.save} is a folder; give a file name such as "
                            f"{settings.save}/kuzu_{settings.net}.pth")
        ensure_folder(os.path.dirname(os.path.abspath(settings.save)))


def load_data(settings, device):
    """The training and test splits on the device."""
    train = kmnist.load_split(settings.data, "train", device, download=not settings.no_download)
    test = kmnist.load_split(settings.data, "test", device, download=False)
    return train, test


def print_settings(settings, device, arithmetic):
    """The settings line and the parameter arithmetic, as printed at the start."""
    s = settings
    print(f"net={s.net} lr={s.lr} mom={s.mom} epochs={s.epochs} batch-size={s.batch_size} "
          f"shift={s.shift} schedule={s.schedule} seed={s.seed} device={device}"
          + (" nesterov" if s.nesterov else "") + f" threads={s.threads or 'auto'}"
          + "".join(f" {name}={getattr(s, name)}" for name in ("wd", "ema", "smoothing", "tta", "erase")
                    if getattr(s, name) != PLAIN_TRAINING[name]))
    print("Independent parameters:")
    for line in arithmetic:
        print("  " + line)


RESUME_KEYS = ("net", "lr", "mom", "nesterov", "epochs", "hid", "conv1", "conv2", "fc", "dropout", "shift",
               "schedule", "batch_size", "seed", "ema", "smoothing", "erase", "wd")  # the same for --resume to go on


def resume_from(settings, model, optimizer, scheduler, average):
    """--resume: load the run saved in --save into the model, its weight average, optimiser and schedule.

    Returns the next epoch and the rows of the epochs done so far.
    """
    ckpt = load_checkpoint(settings.save)[1]
    saved = ckpt.get("resume")
    if not isinstance(saved, dict):
        raise UserError(f"--resume: {settings.save} holds no state to go on from")
    check_same_settings(settings.save, ckpt["args"], settings.as_config(), RESUME_KEYS)
    if ckpt["epoch"] >= settings.epochs:
        raise UserError(f"--resume: {settings.save} finished all {settings.epochs} epochs already")
    if average is not None:  # the file's weights are the average; the last weights travel in its resume state
        if "weights" not in saved or "average_steps" not in saved:
            raise UserError(f"--resume: {settings.save} holds no last weights beside the average to go on from")
        load_weights(settings.save, average.model, ckpt["state_dict"])
        average.steps = saved["average_steps"]
    load_weights(settings.save, model, saved["weights"] if average is not None else ckpt["state_dict"])
    load_optimizer(settings.save, optimizer, saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    print(f"resuming from {settings.save} after epoch {ckpt['epoch']}")
    return ckpt["epoch"] + 1, list(saved["epochs"])


def save_epoch(settings, model, average, optimizer, scheduler, epochs, accuracy):
    """Write --save after an epoch: the tested weights (the average, with --ema) and what --resume needs."""
    resume = {"epochs": epochs, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
              "rng": torch.get_rng_state()}
    if average is not None:
        resume.update(weights=model.state_dict(), average_steps=average.steps)
    save_kuzu_checkpoint(settings.save, average.model if average is not None else model, settings.model_config(),
                         epoch=epochs[-1]["epoch"], accuracy=accuracy, args=settings.as_config(), resume=resume)


def report_test(runner, test, epoch):
    """Test after an epoch, print the confusion matrix and the test line; returns (numbers, confusion, predictions)."""
    test_images, test_labels = test
    test_loss, correct, confusion, predicted = evaluate(runner, test_images, test_labels)
    check_finite(test_loss, epoch, "test loss")
    print(confusion)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_labels)} "
          f"({100.0 * correct / len(test_labels):.0f}%)\n", flush=True)
    row = {"test_loss": test_loss, "correct": correct, "accuracy": 100.0 * correct / len(test_labels)}
    return row, confusion, predicted


def thread_use(chooser):
    """The epoch's thread counts for its row, printed as one line: the count most steps ran at, the steps per
    count, and each look's mean step per count (ms)."""
    used = {count: steps for count, steps in chooser.reset_counts().items() if steps}
    looks = chooser.take_looks()
    most = max(used, key=used.get)
    if len(chooser.counts) > 1:
        seen = "; ".join(", ".join(f"{count} thread{'s' * (count > 1)} {ms:.1f} ms" for count, ms in
                                   look["mean_ms"].items()) for look in looks)
        print(f"Threads: {most} for {used[most]} of {sum(used.values())} steps"
              + (f" (mean step: {seen})" if seen else "") + "\n")
    return {"threads": most, "thread_steps": {str(count): steps for count, steps in used.items()},
            "thread_looks": looks}


def train_and_test(settings, model, runner, train, test, chooser):
    """Train for --epochs, testing after each; returns (the epochs' rows, the final test, the tested model).

    ``runner`` is what is called (the model itself, or its compiled form); ``model`` is what is trained;
    ``chooser`` runs each step at its thread count (lab.common.threads).
    The tested model is the weight average with --ema, else ``runner``; the final test is final_test's.
    """
    batches = kmnist.Batches(*train, settings.batch_size, shuffle=True, seed=settings.seed, shift=settings.shift,
                             erase=settings.erase)
    optimizer = make_optimizer(settings, model)
    steps = settings.epochs * (1 if settings.dry_run else len(batches))
    scheduler = make_scheduler(optimizer, settings.schedule, steps)
    average = WeightAverage(model, settings.ema) if settings.ema else None
    tested = average.model if average is not None else runner  # what each epoch's test runs
    first, epochs = resume_from(settings, model, optimizer, scheduler, average) if settings.resume else (1, [])
    for epoch in range(first, settings.epochs + 1):
        batches.set_epoch(epoch)
        started = time.perf_counter()
        train_loss = train_epoch(runner, optimizer, scheduler, batches, epoch, settings.dry_run, settings.smoothing,
                                 average, chooser)
        trained = time.perf_counter()
        row, confusion, predicted = report_test(tested, test, epoch)
        tested_s = time.perf_counter()
        epochs.append({"epoch": epoch, "train_loss": train_loss, **row, "train_s": round(trained - started, 3),
                       "test_s": round(tested_s - trained, 3), **thread_use(chooser)})
        if settings.save:
            save_epoch(settings, model, average, optimizer, scheduler, epochs, row["correct"] / len(test[1]))
        if settings.dry_run:
            break
    weights = average.model if average is not None else model  # what the run reports and saves
    final = final_test(settings, model, weights, test, epochs[-1], (confusion, predicted))
    return epochs, final, weights


def final_test(settings, model, weights, test, last, last_test):
    """The test the run reports: the last epoch's, or with --tta that of ``weights`` (the average with --ema,
    else the trained ``model``) over --tta views.

    Returns a dict (the record's ``final_test``: accuracy, test_loss, correct, views, and with --ema or
    --tta what the single view and the last weights scored) with the confusion matrix and predictions.
    """
    confusion, predicted = last_test
    averaged = weights is not model
    final = {"views": settings.tta, "averaged": averaged, "test_loss": last["test_loss"],
             "correct": last["correct"], "accuracy": last["accuracy"]}
    if settings.tta == 1 and not averaged:
        return final, confusion, predicted
    images, labels = test
    compared = {("averaged" if averaged else "last") + " weights, 1 view": last["accuracy"]}
    if settings.tta > 1:
        started = time.perf_counter()
        loss, correct, confusion, predicted = evaluate(weights, images, labels, views=settings.tta)
        final.update(test_loss=loss, correct=correct, accuracy=100.0 * correct / len(labels),
                     test_s=round(time.perf_counter() - started, 3))
        print(f"Final test, each image's prediction averaged over {settings.tta} views: Average loss: {loss:.4f}, "
              f"Accuracy: {correct}/{len(labels)} ({final['accuracy']:.2f}%)")
    if averaged:
        compared["last weights, 1 view"] = 100.0 * evaluate(model, images, labels)[1] / len(labels)
    print("Compared: " + ", ".join(f"{name} {accuracy:.2f}%" for name, accuracy in compared.items()))
    return dict(final, compared=compared), confusion, predicted


def finish(settings, test, parameters, epochs, final, model):
    """Print the summary lines and draw the figures; returns (the paths written, the results for the record).

    ``final`` is final_test's (numbers, confusion, predictions); ``model`` the tested model.
    """
    test_images, test_labels = test
    numbers, confusion, predicted = final
    correct, accuracy = numbers["correct"], numbers["accuracy"]
    pairs = most_confused(confusion)
    print("Most confused (true -> chosen): " + format_pairs(pairs))
    print(f"Parameters: {parameters:,}")
    print(f"Test accuracy: {accuracy:.2f}%")
    prefix = os.path.join(settings.plot_dir, settings.run_name)
    saved = [plot_confusion(confusion, settings.net, accuracy, prefix + "_confusion.jpg"),
             plot_samples(test_images, test_labels, predicted, pairs, settings.net, prefix + "_samples.jpg"),
             plot_curve([e["train_loss"] for e in epochs], [e["accuracy"] for e in epochs], settings.net,
                        prefix + "_curve.jpg")]
    why, sentences, figure = why_confused(settings, test, predicted, pairs, model, prefix + "_pairs.jpg")
    results = dict(accuracy=accuracy, correct=correct, test_images=len(test_labels),
                   confusion=confusion.astype(int), classes=list(kmnist.CLASSES), final_test=numbers,
                   most_confused=[{"true": t, "chosen": c, "count": n} for t, c, n in pairs],
                   confusions=why, why_confused=sentences)
    return saved + [figure] + ([settings.save] if settings.save else []), results


def why_confused(settings, test, predicted, pairs, model, path):
    """Measure why the most-confused pairs are confused, print it and draw it: (rows, sentences, figure path)."""
    images, labels = test[0][:, 0].cpu().numpy(), test[1].cpu().numpy()
    weights = linear_weights(model)
    rows = explain_pairs(images, labels, predicted.cpu().numpy(), pairs, weights)
    title = {"lin": "NetLin", "full": "NetFull", "conv": "NetConv"}[settings.net]
    sentences = [text for row in rows for text in pair_sentences(title, row)]
    print("Why these are confused (measured on the test images):")
    for text in sentences:
        print("  " + text)
    return rows, sentences, plot_pairs(images, labels, rows, settings.net, path, weights)


def run(settings, device):
    """Build the network, train and test it, report and draw; returns (the paths written, the record's results)."""
    seed_everything(settings.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    train, test = load_data(settings, device)
    ensure_folder(settings.plot_dir)
    model = build_model(settings.model_config()).to(device)
    total, arithmetic = parameter_arithmetic(model)
    print_settings(settings, device, arithmetic)
    np.set_printoptions(precision=4, suppress=True)
    runner = prepare(model, settings.net, device, settings.compile)
    counts = candidate_counts(torch.get_num_threads()) if settings.threads is None and device.type == "cpu" else \
        [torch.get_num_threads()]
    epochs, final, tested = train_and_test(settings, model, runner, train, test, ThreadChooser(counts))
    saved, results = finish(settings, test, total, epochs, final, tested)
    return saved, dict(parameters=total, arithmetic=arithmetic, model=settings.model_config(), epochs=epochs,
                       **results)


def main(argv=None):
    """Train, test after each epoch, report, plot and record."""
    settings = parse_args(argv)
    started = time.perf_counter()
    check_outputs(settings)
    device = pick_device(settings.device, settings.no_cuda)
    record = Record("kuzu_main.py", argv, settings.as_config())
    lock = held(settings.save + ".lock", settings.save) if settings.save else contextlib.nullcontext()
    with lock, torch_threads(settings.threads):
        saved, results = run(settings, device)
    record.results.update(results)
    record.wrote(*saved)
    counts = [row["threads"] for row in results["epochs"] if "threads" in row]
    threads = settings.threads or max(set(counts), key=counts.count, default=None)
    saved.append(record.write(os.path.join(settings.plot_dir, settings.run_name + ".json"), device, threads))
    print("Saved: " + ", ".join(saved))
    print(f"Wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
