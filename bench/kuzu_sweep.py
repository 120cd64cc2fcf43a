"""Run kuzu_main.py over several settings and seeds, and tabulate accuracy and time.

    python3 bench/kuzu_sweep.py --net conv --seeds 1 2 3 \
        --config "--conv1 16 --conv2 32" --config "--conv1 32 --conv2 64"

Each (config, seed) is one kuzu_main.py process with its own temporary plot
folder, whose run record (kuzu_<net>.json) gives the accuracy, the wall
time and the time per epoch (training and test); --jobs runs several at once
(use 1 when the times matter). The configs take turns seed by seed (A1 B1 A2
B2 ...), so with --jobs 1 a change in the machine's load hits them alike.
Prints a Markdown table per run and per config (mean, min and max accuracy,
mean wall time, median seconds per epoch and its ratio to the first config's).
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lab.common.records import read_record  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402


def run_one(net, config, seed, extra):
    """Run one training; returns (accuracy %, wall seconds, median s per epoch, compared) from its run record.

    The seconds per epoch are training and testing; ``compared`` is the final test's comparison (with --ema
    or --tta: what the single view and the last weights scored), as text.
    """
    with tempfile.TemporaryDirectory(prefix="kuzu_sweep_") as plots:
        command = [sys.executable, os.path.join(ROOT, "kuzu_main.py"), "--net", net, "--seed", str(seed),
                   *shlex.split(config), *extra, "--plot-dir", plots]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if result.returncode:
            raise UserError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        record = read_record(os.path.join(plots, f"kuzu_{net}.json"))
    results = record["results"]
    per_epoch = statistics.median(e["train_s"] + e["test_s"] for e in results["epochs"])
    compared = results.get("final_test", {}).get("compared", {})
    return (results["accuracy"], record["wall_time_s"], per_epoch,
            "; ".join(f"{name} {value:.2f}" for name, value in compared.items()))


def main(argv=None):
    """Run the sweep and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=("lin", "full", "conv"), default="conv", help="which net (default conv)")
    parser.add_argument("--config", action="append", default=None,
                        help='extra kuzu_main.py flags for one setting, quoted; repeat for more (default: none)')
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds (default 1 2 3)")
    parser.add_argument("--jobs", type=int, default=1, choices=range(1, 65), metavar="{1..64}",
                        help="runs at once (default 1)")
    parser.add_argument("--extra", default="",
                        help="flags added to every run, quoted (default: none; the plots go to a temporary folder)")
    args = parser.parse_args(argv)
    configs = args.config or [""]
    extra = shlex.split(args.extra)
    jobs = [(config, seed) for seed in args.seeds for config in configs]  # configs take turns, seed by seed
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda job: run_one(args.net, job[0], job[1], extra), jobs))

    print("\n| net | flags | seed | accuracy % | wall s | s per epoch | compared (%) |\n|---|---|---|---|---|---|---|")
    for (config, seed), (accuracy, wall, per_epoch, compared) in zip(jobs, results):
        print(f"| {args.net} | {config or '(defaults)'} | {seed} | {accuracy:.2f} | {wall:.1f} | {per_epoch:.1f} | "
              f"{compared} |")
    print("\n| net | flags | seeds | mean accuracy % | min | max | mean wall s | s per epoch (median) | "
          "epoch against the first flags |\n|---|---|---|---|---|---|---|---|---|")
    first = None
    for config in configs:
        rows = [result for job, result in zip(jobs, results) if job[0] == config]
        accuracies = [row[0] for row in rows]
        per_epoch = statistics.median(row[2] for row in rows)
        first = first or per_epoch
        print(f"| {args.net} | {config or '(defaults)'} | {len(rows)} | {statistics.mean(accuracies):.2f} | "
              f"{min(accuracies):.2f} | {max(accuracies):.2f} | {statistics.mean(row[1] for row in rows):.1f} | "
              f"{per_epoch:.1f} | {per_epoch / first:.2f}x |")


if __name__ == "__main__":
    sys.exit(run_main(main))
