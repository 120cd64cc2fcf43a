"""Part 2: train (or hand-set) a 2-layer network on the 9-point check data, then show what it computes.

    python3 check_main.py --act sig --hid 5                  # train from random weights
    python3 check_main.py --act step --hid 4 --set_weights   # the hand design with step units
    python3 check_main.py --act sig --hid 4 --set_weights    # the same design, rescaled sigmoid units

Training is full batch (all 9 items each epoch) with Adam and stops once
100% accuracy has held for 2000 consecutive epochs, or after --epoch epochs.
A run whose loss stops improving for --patience epochs short of 100% starts
again from new random weights, at most --restarts times.
"""
import argparse
import os
import sys
import time

from check import MLP, FullBatchAdam, accuracy, activation_table, dividing_lines, load_data, plot_network, plot_unit
from runtime import UserError, ensure_folder, number, positive, run_main, seed_everything, torch_threads

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "check.csv")
HOLD_EPOCHS = 2000     # 100% accuracy must hold this long to stop
REPORT_EVERY = 100     # epochs between progress lines
MIN_PROGRESS = 1e-4    # a loss drop smaller than this over --patience epochs counts as stuck


def parse_args(argv=None):
    """The command-line flags: the course's names and defaults, plus seed, plot folder, data file and restarts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hid", type=number(int, low=1), default=4, help="number of hidden units (default 4)")
    parser.add_argument("--act", choices=["sig", "step"], default="sig",
                        help="unit activation: sigmoid or Heaviside step (default sig)")
    parser.add_argument("--init", type=positive(float), default=0.15,
                        help="standard deviation of the normal initial weights (default 0.15)")
    parser.add_argument("--set_weights", action="store_true",
                        help="start from the hand-designed weights in check.py (scaled up for --act sig)")
    parser.add_argument("--lr", type=positive(float), default=0.001, help="Adam learning rate (default 0.001)")
    parser.add_argument("--epoch", type=number(int, low=1), default=200000,
                        help="the most training epochs, restarts included (default 200000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--restarts", type=number(int, low=0), default=5,
                        help="how many times a stuck run may start again from new random weights (default 5)")
    parser.add_argument("--patience", type=number(int, low=REPORT_EVERY), default=20000,
                        help="epochs without the loss dropping by 1e-4 that count as stuck (default 20000)")
    parser.add_argument("--plot-dir", default="plot", help="folder for the plots (default plot)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="the check data, a CSV file (default data/check.csv)")
    return parser.parse_args(argv)


def print_weights(net, heading):
    """Print a heading, then every parameter tensor under its name."""
    print(heading)
    for name, param in net.named_parameters():
        print(f"{name}:")
        print(param.data)


def train(net, x, y, args):
    """Train ``net`` in place, restarting from new random weights when stuck.

    Returns (epochs run, restarts used, whether 100% held for HOLD_EPOCHS).
    """
    trainer = FullBatchAdam(net, x, y, lr=args.lr, weight_decay=1e-5)
    restarts = held = 0
    best, last_progress = float("inf"), 0
    epoch = 0
    while epoch < args.epoch and held < HOLD_EPOCHS:
        epoch += 1
        held = held + 1 if trainer.step() else 0
        if epoch % REPORT_EVERY:
            continue
        loss, acc = trainer.loss(), trainer.accuracy()
        print("ep:%5d loss: %6.4f acc: %5.2f" % (epoch, loss, acc))
        if loss < best - MIN_PROGRESS:
            best, last_progress = loss, epoch
        elif held == 0 and epoch - last_progress >= args.patience and restarts < args.restarts:
            restarts += 1
            print(f"no progress for {epoch - last_progress} epochs (loss {loss:.4f}, acc {acc:.2f}): "
                  f"new random weights, restart {restarts} of at most {args.restarts}")
            net.init_weights(args.init)
            trainer = FullBatchAdam(net, x, y, lr=args.lr, weight_decay=1e-5)
            best, last_progress = float("inf"), epoch
    trainer.write_to(net)
    return epoch, restarts, held >= HOLD_EPOCHS


def write_plots(net, x, y, args):
    """Write every hidden unit's plot, the output's plot and, with set weights, the network diagram."""
    hid = args.hid
    written = []
    for k in range(hid):
        path = os.path.join(args.plot_dir, f"hid_{hid}_{k}.jpg")
        written.append(plot_unit(net, x, y, path, hidden=k, title=f"hidden unit H{k + 1}"))
    written.append(plot_unit(net, x, y, os.path.join(args.plot_dir, f"out_{hid}.jpg"), title="output"))
    if args.set_weights:
        written.append(plot_network(net, os.path.join(args.plot_dir, f"check_net_{hid}.jpg")))
    return written


def main(argv=None):
    """Run the command for ``argv`` (default: the real command line)."""
    args = parse_args(argv)
    if args.act == "step" and not args.set_weights:
        raise UserError("--act step cannot be trained (the step function has no gradient); "
                        "add --set_weights, or use --act sig")
    x, y = load_data(args.data)
    if os.path.exists(args.plot_dir) and not os.path.isdir(args.plot_dir):
        raise UserError(f"--plot-dir {args.plot_dir} is a file, not a folder")
    ensure_folder(args.plot_dir)
    with torch_threads(1):  # a 9-item network: threads only add overhead
        run(args, x, y)


def run(args, x, y):
    """Set or train the network, then print what it computes and draw it."""
    seed_everything(args.seed)

    net = MLP(args.hid, args.act)
    net.init_weights(args.init)
    trained = False
    if args.set_weights:
        net.set_weights()
        print_weights(net, "Initial Weights:")
        print("Initial Accuracy: ", accuracy(net, x, y))
    if args.act == "sig" and not (args.set_weights and accuracy(net, x, y) == 100.0):
        start = time.perf_counter()
        epochs, restarts, reached = train(net, x, y, args)
        seconds = time.perf_counter() - start
        trained = True
        why = f"100% accuracy held for {HOLD_EPOCHS} epochs" if reached else "the most (--epoch), without holding 100%"
        print(f"Stopped at epoch {epochs}: {why} (restarts: {restarts}, training {seconds:.1f} s)")
        print_weights(net, "Final Weights:")
        print("Final Accuracy: ", accuracy(net, x, y))

    print("\nActivations (H1.. are the hidden units):")
    print(activation_table(net, x, y))
    print("\nDividing lines of the hidden units:")
    print("\n".join(dividing_lines(net)))
    written = write_plots(net, x, y, args)  # an unwritable file is a UserError from save_figure
    print(f"\nPlots ({'trained' if trained else 'set'} weights): " + ", ".join(written))


if __name__ == "__main__":
    sys.exit(run_main(main))
