"""Part 2: train (or hand-set) a 2-layer network on the 9-point check data, then show what it computes.

    python3 check_main.py --act sig --hid 5                  # train from random weights
    python3 check_main.py --act step --hid 4 --set_weights   # the hand design with step units
    python3 check_main.py --act sig --hid 4 --set_weights    # the same design, rescaled sigmoid units

Training is full batch (all 9 items each epoch) with Adam and stops once
100% accuracy has held for 2000 consecutive epochs, or after --epoch epochs.
A run whose loss stops improving for --patience epochs short of 100% starts
again from new random weights, at most --restarts times.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import os
import sys
import time

from check import MLP
from lab.check.data import load_data
from lab.check.plots import plot_network, plot_unit
from lab.check.readouts import accuracy, activation_table, activations, dividing_lines
from lab.check.settings import Settings
from lab.check.training import HOLD_EPOCHS, train
from lab.common.records import Record
from lab.common.errors import run_main
from lab.common.files import ensure_folder, refuse_file
from lab.common.options import parse_settings
from lab.common.compute import seed_everything, torch_threads


def parse_args(argv=None):
    """The settings the flags give: the course's names and defaults, plus seed, plot folder, data file and restarts."""
    return parse_settings(Settings, argv, __doc__.split("\n")[0])


def print_weights(net, heading):
    """Print a heading, then every parameter tensor under its name."""
    print(heading)
    for name, param in net.named_parameters():
        print(f"{name}:")
        print(param.data)


def write_plots(net, x, y, settings):
    """Write every hidden unit's plot, the output's plot and, with set weights, the network diagram."""
    hid, folder = settings.hid, settings.plot_dir
    written = []
    for k in range(hid):
        written.append(plot_unit(net, x, y, os.path.join(folder, f"hid_{hid}_{k}.jpg"), hidden=k,
                                 title=f"hidden unit H{k + 1}"))
    written.append(plot_unit(net, x, y, os.path.join(folder, f"out_{hid}.jpg"), title="output"))
    if settings.set_weights:
        written.append(plot_network(net, os.path.join(folder, f"check_net_{hid}.jpg")))
    return written


def set_or_train(settings, net, x, y):
    """Load the hand design and/or train the network; returns what happened, for the record (trained: whether
    it trained)."""
    results = {}
    if settings.set_weights:
        net.set_weights()
        print_weights(net, "Initial Weights:")
        results["initial_accuracy"] = accuracy(net, x, y)
        print("Initial Accuracy: ", results["initial_accuracy"])
    if settings.act == "sig" and not (settings.set_weights and accuracy(net, x, y) == 100.0):
        start = time.perf_counter()
        epochs, restarts, reached = train(settings, net, x, y)
        seconds = time.perf_counter() - start
        why = (f"100% accuracy held for {HOLD_EPOCHS} epochs" if reached
               else "the most (--epoch), without holding 100%")
        print(f"Stopped at epoch {epochs}: {why} (restarts: {restarts}, training {seconds:.1f} s)")
        print_weights(net, "Final Weights:")
        results.update(epochs=epochs, restarts=restarts, reached=reached, training_s=round(seconds, 3))
        print("Final Accuracy: ", accuracy(net, x, y))
    return dict(results, trained="epochs" in results)


def main(argv=None):
    """Run the command for ``argv`` (default: the real command line)."""
    settings = parse_args(argv)
    x, y = load_data(settings.data)
    refuse_file(settings.plot_dir, "--plot-dir")
    ensure_folder(settings.plot_dir)
    record = Record("check_main.py", argv, settings.as_config())
    with torch_threads(1):  # a 9-item network: threads only add overhead
        written, results = run(settings, x, y)
    record.results.update(results)
    record.wrote(*written)
    record.write(os.path.join(settings.plot_dir, settings.run_name + ".json"), threads=1)


def run(settings, x, y):
    """Set or train the network, then print what it computes and draw it; returns (files written, results)."""
    seed_everything(settings.seed)
    net = MLP(settings.hid, settings.act)
    net.init_weights(settings.init)
    results = set_or_train(settings, net, x, y)
    table, lines = activation_table(net, x, y), dividing_lines(net)
    print("\nActivations (H1.. are the hidden units):")
    print(table)
    print("\nDividing lines of the hidden units:")
    print("\n".join(lines))
    written = write_plots(net, x, y, settings)  # an unwritable file is a UserError from save_figure
    print(f"\nPlots ({'trained' if results['trained'] else 'set'} weights): " + ", ".join(written))
    results.update(accuracy=accuracy(net, x, y), dividing_lines=lines, activations=activations(net, x, y),
                   activation_table=table, weights={name: p.detach().tolist() for name, p in net.named_parameters()})
    return written, results


if __name__ == "__main__":
    sys.exit(run_main(main))
