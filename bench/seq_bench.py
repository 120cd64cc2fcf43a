"""Benchmark Part 3's training: run one configuration over several seeds and judge each run.

    python3 bench/seq_bench.py --lang anb2n --seeds 10 --jobs 2
    python3 bench/seq_bench.py --lang anb2nc3n --model lstm --hid 3 --seeds 10 --jobs 2
    python3 bench/seq_bench.py --lang reber --embed --model lstm --seeds 10 --jobs 2
    python3 bench/seq_bench.py --lang anb2n --flags "--batch 1 --optim sgd --lr 0.1"

Each seed runs ``seq_train.py`` as its own process with one torch thread
(``--jobs`` of them at a time: 2 on a 2-core machine, more on bigger ones)
and is timed from start to exit. A run passes when (criterion ``loss``) its
last 10 reported losses are all below the target, or (criterion ``final``,
the default for embedded Reber) its network predicts the closing T/P of at
least 99% of 1000 fresh sequences. For the counting languages it also
measures every run beyond the training range: sequences of 5 strings with
one fixed n (1 to 8), scoring the symbols that are certain given n
(everything after the first B). Each run's numbers are read from its run
record (``<out_path>/<lang>_<model><hid>.json``). Prints Markdown tables.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lab.recurrent.languages import LANGS, PREDICTED, collate, lang_tag, make_language  # noqa: E402
from lab.common.records import read_record  # noqa: E402
from lab.common.errors import UserError, run_main  # noqa: E402
from seq_models import load_checkpoint  # noqa: E402
from lab.recurrent.settings import defaults_for  # noqa: E402
from lab.recurrent.training import LEARNED_SHARE, TARGET_LOSS, UNTIL_REPORTS, evaluate  # noqa: E402

EVAL_SEED = 1_000_003  # fresh test sequences come from a stream no training seed uses


def train_command(args, seed, out_path):
    """The seq_train.py command line for one seed."""
    cmd = [sys.executable, os.path.join(ROOT, "seq_train.py"), "--lang", args.lang, "--model", args.model,
           "--seed", str(seed), "--out_path", out_path, "--threads", "1"]
    if args.embed:
        cmd.append("--embed")
    if args.hid is not None:
        cmd += ["--hid", str(args.hid)]
    return cmd + shlex.split(args.flags)


def run_seed(args, seed, workdir):
    """Train one seed in a subprocess; return what its run record says and its wall time."""
    out_path = os.path.join(workdir, f"seed{seed}")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.time()
    proc = subprocess.run(train_command(args, seed, out_path), capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.time() - start
    run = {"seed": seed, "rc": proc.returncode, "wall": wall, "losses": [], "checkpoint": None,
           "stderr": proc.stderr.strip().splitlines()[-1:] if proc.returncode else []}
    if proc.returncode == 0:
        hid = args.hid or defaults_for(args.lang, args.model, args.embed)["hid"]
        results = read_record(os.path.join(out_path, f"{lang_tag(args.lang, args.embed)}_{args.model}{hid}.json"))
        run["losses"] = [report["loss"] for report in results["results"]["reports"]]
        run["checkpoint"] = results["results"]["last_checkpoint"]
    return run


def beyond_range(model, lang, ns, strings=5):
    """Per n: share of the symbols certain given n (after the first B) predicted (p > PREDICTED), and of whole strings."""
    rows = {}
    for n in ns:
        seq, prob, state = lang.sequence_for([n] * strings)
        x, target, _, _ = collate([(seq, prob, state)], lang.num_symbols)
        with torch.no_grad():
            out = model(x)[1][0].softmax(-1)
        right = (out.gather(-1, target[0].unsqueeze(-1)).squeeze(-1) > PREDICTED).numpy()
        keep = lang.certain_given_n(seq[:-1])  # from each string's first B on; its last symbol predicts the next A
        string = np.arange(len(right)) // lang.string_length(n)
        scored = right[keep]
        whole = [bool(right[keep & (string == i)].all()) for i in range(strings)]
        rows[n] = (float(np.mean(scored)), float(np.mean(whole)))
    return rows


def judge(args, run, lang):
    """Add the pass/fail verdict and the fresh-sequence scores to a run's record."""
    run["pass"] = False
    if run["rc"] != 0 or run["checkpoint"] is None:
        return run
    model, _ = load_checkpoint(run["checkpoint"])
    rng = np.random.default_rng(EVAL_SEED)
    run["eval"] = evaluate(model, lang, [lang.get_sequence(rng) for _ in range(args.eval_sequences)])
    tail = run["losses"][-UNTIL_REPORTS:]
    run["tail_max"] = max(tail) if tail else float("nan")
    if args.criterion == "final":
        run["pass"] = run["eval"]["final_right"] >= LEARNED_SHARE * args.eval_sequences
    else:
        run["pass"] = len(tail) == UNTIL_REPORTS and run["tail_max"] < args.target
    if lang.counting:
        run["beyond"] = beyond_range(model, lang, range(1, 9))
    return run


def report(args, runs):
    """The Markdown tables for all runs."""
    cmd = "python3 seq_train.py " + " ".join(shlex.quote(c) for c in train_command(args, 0, "net")[2:])
    lines = [f"Configuration: `{cmd.replace('--seed 0', '--seed <s>')}`", ""]
    if args.criterion == "final":
        lines.append(f"Pass: closing T/P predicted (p > {PREDICTED}) on >= {LEARNED_SHARE:.0%} of "
                     f"{args.eval_sequences} fresh sequences.")
    else:
        lines.append(f"Pass: each of the last {UNTIL_REPORTS} reported losses below {args.target}.")
    header = "| seed | pass | last loss | max of last 10 | fresh loss | deterministic right | final T/P right | wall s |"
    lines += ["", header, "|---:|:---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        if r["rc"] != 0 or "eval" not in r:
            lines.append(f"| {r['seed']} | error (rc {r['rc']}: {' '.join(r['stderr'])}) | | | | | | {r['wall']:.1f} |")
            continue
        e = r["eval"]
        final = f"{e['final_right'] / e['sequences']:.1%}" if "final_right" in e else "-"
        lines.append(f"| {r['seed']} | {'yes' if r['pass'] else 'no'} | {r['losses'][-1]:.4f} | {r['tail_max']:.4f} | "
                     f"{e['loss']:.4f} | {e['det_right'] / max(e['det_total'], 1):.2%} | {final} | {r['wall']:.1f} |")
    walls, parallel = [r["wall"] for r in runs], min(args.jobs, len(runs))
    lines += ["", f"**Passed {sum(r['pass'] for r in runs)}/{len(runs)}**; wall time per run min {min(walls):.1f} s, "
              f"median {float(np.median(walls)):.1f} s, max {max(walls):.1f} s ({parallel} at a time)."]
    beyond = [r for r in runs if "beyond" in r]
    if beyond:
        ns = list(beyond[0]["beyond"])
        lines += ["", "Beyond the training range: share of the symbols certain given n (after the first B) predicted "
                  f"with p > {PREDICTED}, on 5 strings with that n (whole strings right in brackets).", "",
                  "| seed | " + " | ".join(f"n={n}" for n in ns) + " |", "|---:|" + "---:|" * len(ns)]
        for r in beyond:
            cells = " | ".join(f"{s:.0%} ({w:.0%})" for s, w in r["beyond"].values())
            lines.append(f"| {r['seed']}{'' if r['pass'] else ' (failed)'} | {cells} |")
        means = [np.mean([r["beyond"][n][0] for r in beyond]) for n in ns]
        lines.append("| mean | " + " | ".join(f"{m:.0%}" for m in means) + " |")
    return "\n".join(lines)


def _length_flag(flags):
    """The --length value inside --flags, if any (the fresh test sequences must use it too)."""
    words = shlex.split(flags)
    for i, w in enumerate(words):
        if w == "--length" and i + 1 < len(words):
            return int(words[i + 1])
        if w.startswith("--length="):
            return int(w.split("=", 1)[1])
    return None


def main(argv=None):
    """Run the seeds, judge them, print the tables; exit 0 even when runs fail their target."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lang", choices=LANGS, default="anb2n", help="language")
    p.add_argument("--embed", action="store_true", help="embedded Reber grammar")
    p.add_argument("--model", choices=("srn", "lstm"), default="srn", help="network type")
    p.add_argument("--hid", type=int, default=None, help="hidden units (default: seq_train.py's)")
    p.add_argument("--flags", default="", help="more seq_train.py flags, in one quoted string")
    p.add_argument("--seeds", type=int, default=10, help="number of seeds")
    p.add_argument("--first_seed", type=int, default=0, help="first seed")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (one torch thread each)")
    p.add_argument("--criterion", choices=("loss", "final"), default=None,
                   help="pass rule (default: final for embedded Reber, else loss)")
    p.add_argument("--target", type=float, default=None, help="loss target (default per language)")
    p.add_argument("--eval_sequences", type=int, default=1000, help="fresh sequences to score each network on")
    p.add_argument("--keep", default=None, help="keep the checkpoints in this folder (default: a temporary one)")
    args = p.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1 or args.eval_sequences < 1:
        raise UserError("--seeds, --jobs and --eval_sequences must be at least 1")
    tag = lang_tag(args.lang, args.embed)
    args.criterion = args.criterion or ("final" if args.embed else "loss")
    args.target = TARGET_LOSS[tag] if args.target is None else args.target
    lang = make_language(args.lang, args.embed, _length_flag(args.flags))
    torch.set_num_threads(1)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with tempfile.TemporaryDirectory(prefix="seq_bench-") as tmp:
        workdir = args.keep or tmp
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            runs = list(pool.map(lambda s: run_seed(args, s, workdir), seeds))
        runs = [judge(args, r, lang) for r in runs]
    print(report(args, runs))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
