"""Time whole kuzu_main.py runs on a quiet machine and beside a second CPU-bound process, per thread count.

    KMNIST_DATA=../shared/data python3 bench/kuzu_threads.py                    # lin and full, 1 and 2 threads
    python3 bench/kuzu_threads.py --nets conv --threads 1 2 --flags "--epochs 1"

Each run is ``kuzu_main.py --net NET --threads T`` with its own temporary plot
folder; the wall time and the training time per epoch come from its run
record. "Busy" runs have a plain Python busy loop (one process, one core)
running beside them for the whole run. The table gives each busy time against
the quiet time of the same net and thread count.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from lab.common.records import cpu_name, read_record  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402

BUSY_LOOP = "import time\nend = time.time() + 3600\nwhile time.time() < end:\n    pass\n"


def timed_run(net, threads, flags, busy):
    """One kuzu_main.py run; returns (wall s, median training s per epoch, accuracy)."""
    loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
    try:
        with tempfile.TemporaryDirectory(prefix="kuzu_threads_") as plots:
            command = [sys.executable, os.path.join(ROOT, "kuzu_main.py"), "--net", net, "--threads", str(threads),
                       "--plot-dir", plots, *shlex.split(flags)]
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            if done.returncode:
                raise UserError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
            record = read_record(os.path.join(plots, f"kuzu_{net}.json"))
    finally:
        if loop:
            loop.kill()
            loop.wait()
    epochs = record["results"]["epochs"]
    return record["wall_time_s"], statistics.median(e["train_s"] for e in epochs), record["results"]["accuracy"]


def main(argv=None):
    """Run every (net, threads) quiet and busy, alternating, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", choices=("lin", "full", "conv"), default=["lin", "full"],
                        help="which nets (default lin full)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--flags", default="", help="more kuzu_main.py flags, quoted (default: none)")
    args = parser.parse_args(argv)
    print(f"{cpu_name()}, {os.cpu_count()} cores; kuzu_main.py {args.flags or '(default flags)'}")
    print("\n| net | threads | quiet wall s | busy wall s | busy / quiet | quiet s per epoch | busy s per epoch |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for net in args.nets:
        for threads in args.threads:
            quiet = timed_run(net, threads, args.flags, busy=False)
            busy = timed_run(net, threads, args.flags, busy=True)
            print(f"| {net} | {threads} | {quiet[0]:.1f} | {busy[0]:.1f} | {busy[0] / quiet[0]:.2f}x | "
                  f"{quiet[1]:.2f} | {busy[1]:.2f} |", flush=True)


if __name__ == "__main__":
    sys.exit(run_main(main))
