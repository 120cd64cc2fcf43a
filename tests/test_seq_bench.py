"""bench/seq_bench.py: one tiny run per seed, judged and tabulated in Markdown from the run's own record."""
import importlib.util
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_bench():
    spec = importlib.util.spec_from_file_location("seq_bench_under_test", os.path.join(ROOT, "bench", "seq_bench.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_tabulates_the_numbers_its_run_recorded(tmp_path):
    from lab.recurrent.languages import make_language
    from seq_models import load_checkpoint
    from lab.recurrent.training import evaluate

    keep = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "bench/seq_bench.py", "--lang", "anb2n", "--keep", str(keep),
                           "--flags", "--epoch 2 --candidates 1", "--seeds", "1", "--first_seed", "3",
                           "--eval_sequences", "50"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the run's own record, kept with --keep: <out_path>/<lang>_<model><hid>.json
    with open(keep / "seed3" / "anb2n_srn2.json", encoding="utf-8") as handle:
        record = json.load(handle)
    assert record["seed"] == 3
    losses = [r["loss"] for r in record["results"]["reports"]]
    assert len(losses) == 2 and losses[0] != losses[1]  # --epoch 2: two reports; the loss criterion needs 10
    row = next(line for line in out.splitlines() if line.startswith("| 3 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "no"
    assert cells[2] == f"{losses[-1]:.4f}" and cells[3] == f"{max(losses[-10:]):.4f}"
    # the fresh-sequence scores are of the checkpoint the record names, on --eval_sequences sequences
    checkpoint = record["results"]["last_checkpoint"]
    assert os.path.dirname(os.path.abspath(checkpoint)) == str(keep / "seed3") and os.path.exists(checkpoint)
    model, _ = load_checkpoint(checkpoint)
    lang = make_language("anb2n")
    rng = np.random.default_rng(load_bench().EVAL_SEED)
    fresh = evaluate(model, lang, [lang.get_sequence(rng) for _ in range(50)])
    assert cells[4] == f"{fresh['loss']:.4f}"
    assert cells[5] == f"{fresh['det_right'] / fresh['det_total']:.2%}" and cells[6] == "-"
    assert "**Passed 0/1**" in out
    assert "| seed | n=1 | n=2 | n=3 | n=4 | n=5 | n=6 | n=7 | n=8 |" in out
    beyond = next(line for line in out.splitlines() if line.startswith("| 3 (failed) |"))
    assert len(beyond.strip("|").split("|")) == 9


def test_pass_needs_ten_reports_all_below_the_target():
    bench = load_bench()  # a private copy of the module: replacing its helpers touches no other test
    loaded = []
    bench.load_checkpoint = lambda path: (loaded.append(path), None)
    bench.evaluate = lambda model, lang, samples: {}
    args = SimpleNamespace(criterion="loss", target=0.05, eval_sequences=1)
    lang = SimpleNamespace(counting=False, get_sequence=lambda rng: None)

    def judged(losses):
        return bench.judge(args, {"rc": 0, "checkpoint": "x.pth", "losses": losses}, lang)

    assert judged([0.5] + [0.04] * 10)["pass"] is True         # an early high loss is outside the last 10
    assert judged([0.04] * 9)["pass"] is False                  # too few reports
    assert judged([0.04] * 9 + [0.05])["pass"] is False         # the target itself is not below it
    assert judged([0.06] * 10)["pass"] is False                 # all above
    assert judged([0.04] * 8 + [0.01, 0.03])["tail_max"] == pytest.approx(0.04)
    assert loaded == ["x.pth"] * 5
    assert bench.judge(args, {"rc": 1, "checkpoint": None, "losses": []}, lang)["pass"] is False


def load_beyond_range_bench():
    spec = importlib.util.spec_from_file_location("beyond_range_under_test",
                                                  os.path.join(ROOT, "bench", "beyond_range.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_beyond_range_bench_counts_a_seed_only_up_to_its_first_wrong_n():
    """Seed A: n = 1..3 wholly right, n = 4 not, n = 5 right again: it reaches 3, not 5. Seed B: every n right.
    At n = 4, one seed of two counts, and the mean share is (0.9 + 1.0) / 2 (by hand)."""
    bench = load_beyond_range_bench()
    a = {1: (1.0, True), 2: (1.0, True), 3: (1.0, True), 4: (0.9, False), 5: (1.0, True)}
    b = {n: (1.0, True) for n in range(1, 6)}
    assert bench.reach(a) == 3 and bench.reach(b) == 5 and bench.reach({1: (0.5, False)}) == 0
    runs = [{"seed": 0, "rows": a, "seconds": 10.0}, {"seed": 1, "rows": b, "seconds": 30.0}]
    text = bench.table("lstm", [0, 1], {"default": runs, "recipe": runs[1:]}, 5)
    assert "| 4 | 1/2 (95%) | 1/1 (100%) |" in text and "| 3 | 2/2 (100%) | 1/1 (100%) |" in text
    assert "default: reach per seed [3, 5]; training time per network median 20.0 s (min 10.0, max 30.0)" in text
