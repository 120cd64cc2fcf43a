"""Run records (lab/common/records.py): the machine's name from a hand-written /proc/cpuinfo, what a record holds,
and what reading one refuses."""
import io
import json

import pytest

from lab.common import records
from lab.common.errors import UserError

X86 = """processor\t: 0
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw
processor\t: 1
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz (core 1)
flags\t\t: fpu sse2
"""
AVX2_ONLY = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu sse2 avx avx2 fma\n"
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32\nCPU part\t: 0xd0c\n"
PLAIN = "model name\t: Old CPU\nflags\t\t: fpu sse2\n"


@pytest.fixture
def cpuinfo(monkeypatch):
    """Make records.cpu_name read ``text`` as /proc/cpuinfo, on a platform that names its processor 'aarch64'."""
    def use(text):
        def fake_open(path, *args, **kwargs):
            assert path == "/proc/cpuinfo"
            return io.StringIO(text)
        monkeypatch.setattr(records, "open", fake_open, raising=False)
        monkeypatch.setattr(records.platform, "processor", lambda: "aarch64")
        return records.cpu_name()
    return use


def test_the_cpu_is_named_by_its_first_model_and_widest_vector_extension(cpuinfo):
    assert cpuinfo(X86) == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz (AVX-512)"
    assert cpuinfo(AVX2_ONLY) == "AMD EPYC 7B12 (AVX2)"
    assert cpuinfo(ARM) == "aarch64 (NEON)"
    assert cpuinfo(PLAIN) == "Old CPU"


def test_a_record_holds_the_command_line_seed_and_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(records.sys, "argv", ["kuzu_main.py", "--net", "conv"])
    record = records.Record("kuzu_main.py", [], {"net": "lin", "seed": 7})
    assert record.data["command_line"] == "python3 kuzu_main.py"  # argv [] is the command's own, not sys.argv
    given = records.Record("kuzu_main.py", ["--net", "full", "--plot-dir", "a b"], {"seed": 7})
    assert given.data["command_line"] == "python3 kuzu_main.py --net full --plot-dir 'a b'"
    assert records.Record("kuzu_main.py", None, {}).data["command_line"] == "python3 kuzu_main.py --net conv"
    assert record.data["seed"] == 7 and record.data["settings"] == {"net": "lin", "seed": 7}
    record.results["accuracy"] = 50.0
    path = record.write(str(tmp_path / "r.json"), threads=3)
    data = json.loads(open(path).read())
    assert data["machine"]["threads"] == 3 and data["machine"]["device"] == "cpu"
    assert data["results"] == {"accuracy": 50.0} and data["wall_time_s"] >= 0


def kuzu_results():
    return {"accuracy": 90.0, "correct": 9, "test_images": 10, "parameters": 7850, "arithmetic": ["a"],
            "epochs": [{"epoch": 1}], "classes": list("abcdefghij"), "confusion": [[0] * 10 for _ in range(10)],
            "most_confused": [{"true": "a", "chosen": "b", "count": 1}]}


def write(tmp_path, data):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_reading_a_record_checks_it_and_its_commands_results(tmp_path):
    whole = {"command": "kuzu_main.py", "files": [], "results": kuzu_results(), "wall_time_s": 1.0}
    assert records.read_record(write(tmp_path, whole), "kuzu_main.py")["results"]["accuracy"] == 90.0
    with pytest.raises(UserError, match="is not a run record of this lab"):
        records.read_record(write(tmp_path, {"command": "kuzu_main.py", "files": []}))
    with pytest.raises(UserError, match=r"results\.classes has 9 items, expected 10"):
        records.read_record(write(tmp_path, {**whole, "results": {**kuzu_results(), "classes": list("abcdefghi")}}),
                            "kuzu_main.py")
    with pytest.raises(UserError, match="wall_time_s is missing"):
        records.read_record(write(tmp_path, {k: v for k, v in whole.items() if k != "wall_time_s"}), "kuzu_main.py")
    with pytest.raises(UserError, match=r"results\.correct is missing"):
        records.read_record(write(tmp_path, {**whole, "results": {"accuracy": 90.0}}), "kuzu_main.py")


def test_a_trained_check_record_needs_its_epochs_and_restarts(tmp_path):
    results = {"accuracy": 100.0, "dividing_lines": [], "activation_table": "", "trained": True, "reached": False}
    data = {"command": "check_main.py", "files": [], "results": results}
    with pytest.raises(UserError, match=r"results\.epochs is missing"):
        records.read_record(write(tmp_path, data), "check_main.py")
    hand = {**results, "trained": False}
    assert records.read_record(write(tmp_path, {**data, "results": hand}), "check_main.py")
