"""Smoke test for bench/seq_bench.py: one tiny run per seed, judged and tabulated in Markdown."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_judges_and_tabulates_a_seed():
    proc = subprocess.run([sys.executable, "bench/seq_bench.py", "--lang", "anb2n",
                           "--flags", "--epoch 1 --candidates 1", "--seeds", "1", "--first_seed", "3", "--eval_sequences", "50"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "| seed | pass |" in out and "| 3 | no |" in out  # 1 report, 10 needed
    assert "**Passed 0/1**" in out
    assert "| seed | n=1 | n=2 | n=3 | n=4 | n=5 | n=6 | n=7 | n=8 |" in out
