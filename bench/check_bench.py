"""Benchmark Part 2's training: ``check_main.py --act sig --hid 5`` over many seeds.

    python3 bench/check_bench.py                 # seeds 0..19, one at a time
    python3 bench/check_bench.py --jobs 8        # eight runs at once
    python3 bench/check_bench.py --seeds 100 --first-seed 1000

Each seed runs as its own process with the default flags (plots go to a
temporary folder, whose run record check_sig_5.json gives the numbers). Prints, per seed, whether 100% was reached, the epochs,
the restarts, the training time and the whole run's wall time; then how many
seeds reached 100%, the medians and how many runs needed a restart. Wall
times grow when --jobs is more than the free cores.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lab.common.records import read_record  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402


def run_seed(seed, extra):
    """Run check_main.py for one seed; return a dict of what it reported."""
    with tempfile.TemporaryDirectory(prefix="check_bench_") as plots:
        command = [sys.executable, os.path.join(ROOT, "check_main.py"), "--act", "sig", "--hid", "5",
                   "--seed", str(seed), "--plot-dir", plots] + extra
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise UserError(f"seed {seed}: check_main.py failed (exit {done.returncode}):\n{done.stderr.strip()}")
        results = read_record(os.path.join(plots, "check_sig_5.json"))["results"]
    return {
        "seed": seed,
        "reached": results["reached"] and results["accuracy"] == 100.0,
        "epochs": results["epochs"],
        "restarts": results["restarts"],
        "train_s": results["training_s"],
        "wall_s": wall,
    }


def main(argv=None):
    """Run the benchmark and print its table and summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds to run (default 20)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at the same time (default 1)")
    parser.add_argument("--epoch", type=int, help="passed on to check_main.py (default: its own)")
    parser.add_argument("--restarts", type=int, help="passed on to check_main.py (default: its own)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        raise UserError("--seeds and --jobs must be at least 1")
    extra = []
    for flag in ("epoch", "restarts"):
        if getattr(args, flag) is not None:
            extra += [f"--{flag}", str(getattr(args, flag))]

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"check_main.py --act sig --hid 5 {' '.join(extra)}: {args.seeds} seeds, {args.jobs} at a time")
    print(f"{'seed':>5} {'100%':>5} {'epochs':>7} {'restarts':>8} {'train s':>8} {'wall s':>7}")
    results = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(lambda seed: run_seed(seed, extra), seeds):
            results.append(row)
            print(f"{row['seed']:>5} {'yes' if row['reached'] else 'NO':>5} {row['epochs']:>7} "
                  f"{row['restarts']:>8} {row['train_s']:>8.1f} {row['wall_s']:>7.1f}", flush=True)

    reached = [r for r in results if r["reached"]]
    print(f"reached 100%: {len(reached)} of {len(results)}")
    done_epochs = statistics.median(r["epochs"] for r in reached) if reached else float("nan")
    print(f"median epochs: {statistics.median(r['epochs'] for r in results):.0f} "
          f"(runs that reached 100%: {done_epochs:.0f})")
    print(f"median training time: {statistics.median(r['train_s'] for r in results):.2f} s; "
          f"median wall time per run: {statistics.median(r['wall_s'] for r in results):.2f} s")
    print(f"runs that needed a restart: {sum(r['restarts'] > 0 for r in results)} "
          f"(restarts in all: {sum(r['restarts'] for r in results)})")


if __name__ == "__main__":
    sys.exit(run_main(main))
