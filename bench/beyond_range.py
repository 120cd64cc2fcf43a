"""Beyond the training range: the default networks against the counting recipe's, over several seeds.

    python3 bench/beyond_range.py --out NETS                       # LSTM-3 on anb2nc3n and SRN-2 on anb2n, seeds 0..9
    python3 bench/beyond_range.py --out NETS --models lstm --seeds 0 1 2

For each network kind and seed it trains (unless ``--out`` already holds it)
the default network with seq_train.py and the recipe's network with
seq_train.py --recipe count, both on n = 1..--length, one training at a time
with one torch thread. Each network is then tested as bench/seq_bench.py's
``beyond_range`` does: sequences of 5 strings of one n, for n = 1 up to
--factor x --length, scoring the symbols that are certain given n (from each
string's first B on, p > 0.5 counts as right). A seed counts at n when every
string of every n' <= n is wholly right. Prints a Markdown table per network
kind (rows n; columns default and recipe: seeds right up to n, and the mean
share of right symbols at n) and the training time per network.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lab.recurrent.series import language_for, list_checkpoints  # noqa: E402
from seq_bench import beyond_range  # noqa: E402
from seq_models import load_checkpoint  # noqa: E402

NETWORKS = {"lstm": dict(lang="anb2nc3n", model="lstm", hid=3), "srn": dict(lang="anb2n", model="srn", hid=2)}
TIME_FILE = "train_time.json"  # beside each network: its training time in seconds


def newest(folder):
    """The checkpoint of ``folder`` with the most sequences seen, or None."""
    files = list_checkpoints(folder)
    return files[-1] if files else None


def train(net, seed, length, folder, *recipe):
    """Train a network with seq_train.py (the default, or with ``recipe``, e.g. "--recipe", "count"); returns its
    training time (seq_train.py's own count)."""
    cmd = [sys.executable, os.path.join(ROOT, "seq_train.py"), "--lang", net["lang"], "--model", net["model"],
           "--hid", str(net["hid"]), "--length", str(length), "--seed", str(seed), "--threads", "1",
           "--out_path", folder, "--plot_path", folder, *recipe]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    return float(re.search(r"sequences in ([0-9.]+) s", proc.stdout).group(1))


def network(kind, which, seed, args):
    """The trained network of one kind ("lstm"/"srn"), "default" or "recipe", and seed: (model, lang, seconds),
    trained into --out first when it is not there."""
    folder = os.path.join(args.out, f"{kind}-{which}-{seed}")
    timing = os.path.join(folder, TIME_FILE)
    if newest(folder) is None or not os.path.exists(timing):
        seconds = train(NETWORKS[kind], seed, args.length, folder, *(["--recipe", "count"] if which == "recipe"
                                                                      else []))
        with open(timing, "w") as f:
            json.dump({"seconds": seconds}, f)
    path = newest(folder)
    model, ckpt = load_checkpoint(path)
    with open(timing) as f:
        seconds = json.load(f)["seconds"]
    return model, language_for(ckpt["config"], None, path), seconds


def measure(model, lang, top):
    """Per n = 1..top: (share of the certain symbols right, every string wholly right)."""
    rows = beyond_range(model, lang, range(1, top + 1))
    return {n: (share, whole == 1.0) for n, (share, whole) in rows.items()}


def reach(rows):
    """The largest n up to which every string of every n' <= n is wholly right (0: not even n = 1)."""
    best = 0
    for n in sorted(rows):
        if not rows[n][1]:
            break
        best = n
    return best


def table(kind, seeds, results, top):
    """The Markdown table of one network kind: per n, seeds right up to n and mean share, default and recipe."""
    net = NETWORKS[kind]
    lines = [f"{net['lang']} {kind.upper()}-{net['hid']}, seeds {', '.join(map(str, seeds))}: seeds with every "
             "string right up to n (mean share of the certain symbols right at n)", "",
             "| n | default | recipe |", "|---:|---:|---:|"]
    for n in range(1, top + 1):
        cells = []
        for which in ("default", "recipe"):
            runs = results[which]
            up = sum(reach(r["rows"]) >= n for r in runs)
            share = np.mean([r["rows"][n][0] for r in runs])
            cells.append(f"{up}/{len(runs)} ({share:.0%})")
        lines.append(f"| {n} | {' | '.join(cells)} |")
    lines.append("")
    for which in ("default", "recipe"):
        runs = results[which]
        secs = [r["seconds"] for r in runs]
        lines.append(f"{which}: reach per seed {[reach(r['rows']) for r in runs]}; training time per network "
                     f"median {np.median(secs):.1f} s (min {min(secs):.1f}, max {max(secs):.1f})")
    return "\n".join(lines)


def main(argv=None):
    """Train what is missing, measure every network, print the tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder for the networks, one sub-folder per kind, recipe and seed")
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(10)), help="seeds (default: 0..9)")
    p.add_argument("--models", nargs="+", choices=tuple(NETWORKS), default=list(NETWORKS),
                   help="network kinds (default: lstm srn)")
    p.add_argument("--length", type=int, default=4, help="largest n trained on (default: 4)")
    p.add_argument("--factor", type=int, default=4, help="test n up to this times --length (default: 4)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    top = args.factor * args.length
    for kind in args.models:
        results = {"default": [], "recipe": []}
        for seed in args.seeds:
            for which in results:
                model, lang, seconds = network(kind, which, seed, args)
                rows = measure(model, lang, top)
                results[which].append({"seed": seed, "rows": rows, "seconds": seconds})
                print(f"{kind} {which} seed {seed}: right up to n = {reach(rows)}, trained in {seconds:.1f} s",
                      flush=True)
        print("\n" + table(kind, args.seeds, results, top) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
