"""Time whole kuzu_main.py runs per thread count, alone and beside busy neighbours, against kuzu_main.py's own choice.

    KMNIST_DATA=../shared/data python3 bench/kuzu_threads.py               # lin, full and conv; 1, 2 and default threads
    KMNIST_DATA=../shared/data python3 bench/kuzu_threads.py --nets conv --conditions idle nice
    python3 bench/kuzu_threads.py --nets lin full --threads 1 2 4 --rounds 3 --flags "--epochs 3"

Each run is ``kuzu_main.py --net NET`` with its own temporary plot folder,
once per variant: a fixed count T (the run gets ``--threads T``) or
``default`` (no --threads flag: kuzu_main.py chooses). Each net is timed
under three conditions, the two kinds of neighbour students meet and none:

- idle: nothing else running beside it;
- busy: one plain Python busy loop at normal priority (one process, one core);
- nice: two busy loops started with ``nice -n 19`` (background jobs).

The neighbours start a second before the timed run and are stopped after it.
Within each net and condition the variants run in an order that rotates
every round, so no variant always goes first. The wall time, the median
training time per epoch and the threads used come from each run's record.
The first table gives every variant's wall time against the best fixed
count of the same net and condition (the median over rounds with --rounds);
the second says whether the default stays within 1.25x of that best fixed
count. NetConv runs get --conv-flags (default "--epochs 2", to keep them
short). The machine should be otherwise quiet: the load average before
starting is printed on the first line.
"""
import argparse
import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lab.common.records import cpu_name, read_record  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402
from lab.common.options import number  # noqa: E402

BUSY_LOOP = "import time\nend = time.time() + 3600\nwhile time.time() < end:\n    pass\n"
NEIGHBOURS = {  # the commands started beside a run, per condition
    "idle": [],
    "busy": [[sys.executable, "-c", BUSY_LOOP]],
    "nice": [["nice", "-n", "19", sys.executable, "-c", BUSY_LOOP]] * 2,
}
TARGET = 1.25  # the default should take at most this times the best fixed count's wall time
DEFAULT = "default"


@contextlib.contextmanager
def neighbours(condition):
    """Run the condition's busy loops beside the block (a second's head start); kill and wait for them after it."""
    started = []
    try:
        for command in NEIGHBOURS[condition]:
            try:
                started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            except OSError as err:
                raise UserError(f"cannot start the {condition} neighbour {shlex.join(command)}: {err}") from None
        if started:
            time.sleep(1)
        yield
    finally:
        for process in started:
            process.kill()
        for process in started:
            process.wait()


def record_path(plots, net):
    """The run record in ``plots``: kuzu_<net>.json, or kuzu_<net>_dry-run.json for a --dry-run."""
    for name in (f"kuzu_{net}.json", f"kuzu_{net}_dry-run.json"):
        if os.path.exists(os.path.join(plots, name)):
            return os.path.join(plots, name)
    return os.path.join(plots, f"kuzu_{net}.json")  # missing: read_record says so


def timed_run(net, variant, flags, condition):
    """One kuzu_main.py run of ``variant`` (a thread count or "default") under ``condition``.

    Returns a dict: wall (s), epoch (median training s per epoch, None without
    epochs), accuracy (%), threads (the record's count) and epoch_threads
    (the per-epoch counts, when the epochs' rows carry them, else None).
    """
    threads = [] if variant == DEFAULT else ["--threads", str(variant)]
    with tempfile.TemporaryDirectory(prefix="kuzu_threads_") as plots:
        command = [sys.executable, os.path.join(ROOT, "kuzu_main.py"), "--net", net, *threads,
                   "--plot-dir", plots, *flags]
        with neighbours(condition):
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            raise UserError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
        record = read_record(record_path(plots, net))
    epochs = record["results"].get("epochs") or []
    per_epoch = [e["threads"] for e in epochs if "threads" in e]
    return {"wall": record["wall_time_s"],
            "epoch": statistics.median(e["train_s"] for e in epochs) if epochs else None,
            "accuracy": record["results"].get("accuracy"),
            "threads": record.get("machine", {}).get("threads"),
            "epoch_threads": per_epoch or None}


def rotated(variants, turn):
    """``variants`` starting at position ``turn`` (wrapping round), so each round another goes first."""
    turn %= len(variants)
    return variants[turn:] + variants[:turn]


def threads_used(runs):
    """The threads the runs' records name, e.g. "2" or "2 (2,2,1)" with per-epoch counts; rounds that differ joined by "; "."""
    seen = []
    for run in runs:
        text = "?" if run["threads"] is None else str(run["threads"])
        if run["epoch_threads"]:
            text += f" ({','.join(str(t) for t in run['epoch_threads'])})"
        if text not in seen:
            seen.append(text)
    return "; ".join(seen)


def summarise(runs):
    """The median over rounds of a variant's wall time and time per epoch (None where no run had epochs)."""
    epochs = [run["epoch"] for run in runs if run["epoch"] is not None]
    return statistics.median(run["wall"] for run in runs), statistics.median(epochs) if epochs else None


def ratio(wall, best):
    """``wall`` against ``best`` as "1.08x" ("-" when best is zero)."""
    return f"{wall / best:.2f}x" if best > 0 else "-"


def measure_block(net, condition, variants, flags, rounds):
    """Time every variant for one (net, condition), ``rounds`` times in rotating order; returns {variant: [runs]}."""
    runs = {variant: [] for variant in variants}
    for turn in range(rounds):
        for variant in rotated(variants, turn):
            runs[variant].append(timed_run(net, variant, flags, condition))
    return runs


def print_block(net, condition, variants, runs):
    """Print the block's table rows; returns (default wall s, best fixed count, its wall s) as medians over rounds."""
    medians = {variant: summarise(runs[variant]) for variant in variants}
    best = min((v for v in variants if v != DEFAULT), key=lambda v: medians[v][0])
    best_wall = medians[best][0]
    for variant in variants:
        wall, epoch = medians[variant]
        print(f"| {net} | {condition} | {variant} | {wall:.1f} | {'-' if epoch is None else f'{epoch:.2f}'} | "
              f"{threads_used(runs[variant])} | {ratio(wall, best_wall)} |", flush=True)
    return medians[DEFAULT][0], best, best_wall


def print_summary(summary):
    """The default against the best fixed count per (net, condition), and how many meet the target."""
    print(f"\n| net | condition | default wall s | best fixed (count, wall s) | default / best | within {TARGET}x |")
    print("|---|---|---:|---|---:|---|")
    within = 0
    for (net, condition), (default, best, best_wall) in summary.items():
        ok = best_wall > 0 and default <= TARGET * best_wall
        within += ok
        print(f"| {net} | {condition} | {default:.1f} | {best}, {best_wall:.1f} | {ratio(default, best_wall)} | "
              f"{'yes' if ok else '**no**'} |")
    print(f"\nThe default is within {TARGET}x of the best fixed count in {within} of {len(summary)} cases "
          f"(target: all).")


def glue_flag_values(argv):
    """``argv`` with ``--flags X`` and ``--conv-flags X`` written as ``--flags=X``, so a value such as
    "--dry-run" is taken as the value, not as an option of this script."""
    glued, words = [], list(argv)
    while words:
        word = words.pop(0)
        glued.append(f"{word}={words.pop(0)}" if word in ("--flags", "--conv-flags") and words else word)
    return glued


def build_parser():
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", choices=("lin", "full", "conv"), default=["lin", "full", "conv"],
                        help="which nets (default lin full conv)")
    parser.add_argument("--threads", nargs="+", type=number(int, above=0), default=[1, 2],
                        help="fixed thread counts to compare with the default (default 1 2)")
    parser.add_argument("--conditions", nargs="+", choices=tuple(NEIGHBOURS), default=list(NEIGHBOURS),
                        help="idle: nothing beside; busy: one busy loop at normal priority; nice: two busy loops "
                             "under nice -n 19 (default all three)")
    parser.add_argument("--flags", default="", help="more kuzu_main.py flags for every net, quoted (default: none)")
    parser.add_argument("--conv-flags", default="--epochs 2",
                        help='more kuzu_main.py flags for conv only, after --flags, quoted (default "--epochs 2", '
                             'so conv runs stay short; "" for kuzu_main.py\'s own 10 epochs)')
    parser.add_argument("--rounds", type=number(int, above=0), default=1,
                        help="times each variant runs per net and condition; the tables give the medians (default 1)")
    return parser


def main(argv=None):
    """Run every (net, condition, variant), print the table as it goes, then the summary."""
    args = build_parser().parse_args(glue_flag_values(sys.argv[1:] if argv is None else argv))
    try:
        flags, conv_flags = shlex.split(args.flags), shlex.split(args.conv_flags)
    except ValueError as err:
        raise UserError(f"cannot split the flags: {err}") from None
    variants = [*dict.fromkeys(args.threads), DEFAULT]
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before starting; "
          f"kuzu_main.py {args.flags or '(default flags)'}"
          + (f", conv also {args.conv_flags}" if "conv" in args.nets and args.conv_flags else ""))
    print("\n| net | condition | variant | wall s | s per epoch (median) | threads used | against best fixed |")
    print("|---|---|---|---:|---:|---|---:|")
    summary = {}
    for net in args.nets:
        net_flags = flags + (conv_flags if net == "conv" else [])
        for condition in args.conditions:
            runs = measure_block(net, condition, variants, net_flags, args.rounds)
            summary[net, condition] = print_block(net, condition, variants, runs)
    print_summary(summary)


if __name__ == "__main__":
    sys.exit(run_main(main))
