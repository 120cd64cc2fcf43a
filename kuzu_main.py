"""Train and test NetLin, NetFull or NetConv on Kuzushiji-MNIST.

    python3 kuzu_main.py --net conv

prints the course's loss lines, the confusion matrix and the accuracy after
every epoch, then the most-confused pairs, the parameter count and the wall
time; saves a confusion heatmap, a grid of test examples and the training
curve in --plot-dir, and a record of the run (kuzu_<net>.json) beside them.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import contextlib
import os
import sys
import time

import numpy as np
import torch

from lab.characters import kmnist
from kuzu import PLAIN_TRAINING, build_model, load_checkpoint, parameter_arithmetic, save_kuzu_checkpoint
from lab.characters.settings import Settings
from lab.common.checkpoints import check_same_settings, load_optimizer, load_weights
from lab.characters.confusions import explain_pairs, linear_weights, pair_sentences
from lab.characters.pair_plots import plot_pairs
from lab.characters.plots import plot_confusion, plot_curve, plot_samples
from lab.characters.training import WeightAverage, check_finite, evaluate, format_pairs, make_optimizer, make_scheduler, most_confused, prepare, train_epoch
from lab.common.records import Record
from lab.common.errors import UserError, run_main
from lab.common.files import ensure_folder, refuse_file
from lab.common.locks import held
from lab.common.options import parse_settings, same_on_resume
from lab.common.compute import pick_device, seed_everything, torch_threads
from lab.common.threads import ThreadChooser, candidate_counts


def parse_args(argv):
    """The settings the flags give, each net's defaults filled in; flags that do not fit together: a usage error."""
    return parse_settings(Settings, argv, "Train and test a classifier on Kuzushiji-MNIST (KMNIST).", usage_errors=True)


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


def resume_from(settings, model, optimizer, scheduler, average):
    """--resume: load the run saved in --save into the model, its weight average, optimiser and schedule.

    Returns the next epoch and the rows of the epochs done so far.
    """
    ckpt = load_checkpoint(settings.save)[1]
    saved = ckpt.get("resume")
    if not isinstance(saved, dict):
        raise UserError(f"--resume: {settings.save} holds no state to go on from")
    check_same_settings(settings.save, ckpt["args"], settings.as_config(), same_on_resume(Settings))
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
