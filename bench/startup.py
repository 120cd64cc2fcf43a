"""How long a small command takes from start to exit, against loading the libraries it cannot do without.

    python3 bench/startup.py --repeats 7

Runs, alternately and each ``--repeats`` times, ``python3 -c "import torch,
matplotlib.pyplot"`` (the floor: what any command that trains and plots must
load) and each command below, whole (start, work, exit), in a scratch folder.
Prints the median wall time of each and its ratio to the floor's; the two are
measured side by side so that a busy machine slows both alike.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOOR = ["-c", "import torch, matplotlib.pyplot"]
COMMANDS = {
    "check_main.py --act step --hid 4 --set_weights": ["check_main.py", "--act", "step", "--hid", "4",
                                                       "--set_weights"],
    "check_main.py --act sig --hid 4 --set_weights": ["check_main.py", "--act", "sig", "--hid", "4", "--set_weights"],
    "seq_train.py --help": ["seq_train.py", "--help"],
}


def seconds(argv, folder):
    """Wall time of ``python3 argv`` run in ``folder``, whole; a failing run stops the bench."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=folder, capture_output=True, text=True,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(argv)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def main():
    """Time the floor and every command, alternately, and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each (default: 7)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="startup-")
    try:
        times = {name: [] for name in ["floor", *COMMANDS]}
        for _ in range(args.repeats):
            times["floor"].append(seconds(FLOOR, folder))
            for name, argv in COMMANDS.items():
                times[name].append(seconds([os.path.join(ROOT, argv[0]), *argv[1:]], folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    floor = statistics.median(times["floor"])
    floor_name = 'python3 -c "import torch, matplotlib.pyplot"'
    print(f"{floor_name:52s} {floor:6.2f} s   1.00x")
    for name in COMMANDS:
        median = statistics.median(times[name])
        print(f"{name:52s} {median:6.2f} s   {median / floor:.2f}x")


if __name__ == "__main__":
    main()
