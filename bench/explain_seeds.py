"""Check seq_explain's sentences against the default networks of several seeds, and tabulate their run lengths.

    python3 bench/explain_seeds.py --seeds 0 1 2 3 4 5 --out NETS     # trains into NETS what is missing, then checks

For each seed it trains (unless ``--out`` already holds them) the default
SRN on a^n b^2n and the default LSTM-3 on a^n b^2n c^3n with seq_train.py,
explains each, and runs the checks of tests/test_explain_truth.py on it:
every run length, wrong position, deciding unit's side, fixed point's
one-step shrinking, slow point's speed, lost count and phase-end drift the text states is
tested by running the torch network on the strings the sentence names.
Prints one line per network (OK, or the checks that failed) and a Markdown
table of the runs: the network's own and the one predicted from its
counter unit(s), with how many of them are equal and within one.
"""
import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from lab.explain.analysis import explain  # noqa: E402
from lab.explain.sentences import explanation  # noqa: E402
from lab.recurrent.series import language_for, load_model  # noqa: E402
import test_explain_truth as truth  # noqa: E402

NETWORKS = {"srn": ["--lang", "anb2n"], "lstm": ["--lang", "anb2nc3n", "--model", "lstm", "--hid", "3"]}
CHECKS = [truth.test_run_lengths_are_the_networks_own, truth.test_every_wrong_position_and_the_deciding_units_side,
          truth.test_a_fixed_points_one_step_shrinking_holds_near_it,
          truth.test_slow_points_move_the_state_as_little_as_the_text_says,
          truth.test_where_a_count_is_lost_the_values_are_the_networks,
          truth.test_where_each_phase_ends_the_stated_drift_is_the_networks_own]


def latest(folder):
    """The checkpoint of ``folder`` with the most sequences seen, or None."""
    files = glob.glob(os.path.join(folder, "*.pth"))
    return max(files, key=lambda f: int(f.rsplit("_", 1)[1][:-4])) if files else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5], help="seeds (default: 0..5)")
    parser.add_argument("--out", required=True, help="folder for the networks, one sub-folder per network and seed")
    args = parser.parse_args()
    table = []
    for kind, flags in NETWORKS.items():
        for seed in args.seeds:
            folder = os.path.join(args.out, f"{kind}{seed}")
            if latest(folder) is None:
                subprocess.run([sys.executable, os.path.join(ROOT, "seq_train.py"), *flags, "--seed", str(seed),
                                "--out_path", folder, "--plot_path", folder], check=True, capture_output=True)
            path = latest(folder)
            model, ckpt = load_model(path)[:2]
            lang = language_for(ckpt["config"], None, path)
            result = explain(model, lang)
            bundle = (model.double().eval(), lang, explanation(result))
            failed = []
            for check in CHECKS:
                try:
                    check(bundle)
                except AssertionError as err:
                    failed.append(f"{check.__name__}: {str(err)[:200]}")
            print(f"{kind} seed {seed}: " + ("OK" if not failed else "; ".join(failed)), flush=True)
            for row in result["runs"]:
                counter = row["unit"] + ("" if row.get("with") is None else f" with {row['with']}")
                table.append(f"| {kind.upper()} | {seed} | {row['phase']} | {counter} | "
                             + ", ".join(str(r["network"]) for r in row["runs"]) + " | "
                             + ", ".join(str(r["predicted"]) for r in row["runs"])
                             + f" | {row['same']} / {row['near']} |")
    print("\n| net | seed | phase | counter | network's run | predicted | equal / within one |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
