"""Locks that refuse a live holder by name and never block anyone after their holder has gone, and the temporary
files a killed write leaves behind."""
import contextlib
import json
import os
import shlex
import subprocess
import sys
import time

import pytest

import seq_train
from lab.common.errors import UserError, run_main
from lab.common.files import atomic_write_text
from lab.common.locks import held

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from lab.common.locks import held

with held(sys.argv[1], "the files"):
    print("held", flush=True)
    time.sleep(120)
"""


@contextlib.contextmanager
def holder(lock):
    """Another process holding ``lock`` until the block ends (then killed: SIGKILL, none of its code runs)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), ROOT], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "held\n"
        yield child
    finally:
        child.kill()
        child.wait()


def seq_flags(folder):
    return ["--lang", "anbn", "--epoch", "1", "--candidates", "1", "--out_path", str(folder / "net"),
            "--plot_path", str(folder / "plot")]


def test_the_lock_records_who_holds_it_and_goes_at_the_end(tmp_path):
    lock = tmp_path / "anbn_srn2.lock"
    with held(str(lock), "the files"):
        holder_said = json.loads(lock.read_text())
    assert holder_said == {"pid": os.getpid(), "command": shlex.join([os.path.basename(sys.argv[0]), *sys.argv[1:]])}
    assert not lock.exists()


def test_a_live_holder_is_refused_by_name_and_a_killed_one_blocks_no_one(tmp_path):
    lock = tmp_path / "my net" / "anbn_srn2.lock"
    with holder(lock) as child:
        before = lock.read_bytes()
        with pytest.raises(UserError) as refused:
            with held(str(lock), "the files"):
                pass
        assert str(refused.value).startswith(f"another run is writing the files: process {child.pid} (-c ")
        assert f"holds {lock}; wait for it to finish" in str(refused.value)
        assert lock.read_bytes() == before  # the refused run leaves the holder's lock as it was
    assert lock.exists()  # killed: its lock file is left behind, but the system's lock went with the process
    with held(str(lock), "the files"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_seq_train_is_refused_while_another_run_holds_its_series(tmp_path, capsys):
    with holder(tmp_path / "net" / "anbn_srn2.lock") as child:
        assert run_main(seq_train.main, seq_flags(tmp_path)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"process {child.pid} (" in err and "anbn_srn2.lock" in err
        assert os.listdir(tmp_path / "net") == ["anbn_srn2.lock"]


def test_seq_train_goes_on_past_the_lock_file_of_a_run_that_has_gone(tmp_path, capsys):
    """A lock file left by an earlier version, a killed run or a restarted container, whoever it names."""
    lock = tmp_path / "net" / "anbn_srn2.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": os.getpid(), "host": "old-container-7f3a", "command": "seq_train.py"}))
    assert run_main(seq_train.main, seq_flags(tmp_path)) == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "net")) == ["anbn_srn2.json", "anbn_srn2_1.pth"]


# --- temporary files of a killed write ---------------------------------------------------------------------------

KILLED_WRITER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from lab.common.files import atomic_write

def write(tmp):
    with open(tmp, "wb") as handle:
        handle.write(b"half a checkpoint")
    print("writing", flush=True)
    time.sleep(120)

atomic_write(sys.argv[1], write)
"""


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_next_write_removes_what_a_killed_write_left(tmp_path):
    target = tmp_path / "anbn_srn2_1.pth"
    target.write_bytes(b"the good checkpoint")
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), ROOT], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "writing\n"
    finally:
        writer.kill()  # SIGKILL: no finally clause of the writer runs
        writer.wait()
    leftover = [n for n in os.listdir(tmp_path) if n.startswith(f".tmp-{writer.pid}-")]
    assert len(leftover) == 1 and target.read_bytes() == b"the good checkpoint"
    leftover = tmp_path / leftover[0]
    mine = tmp_path / f".tmp-{os.getpid()}-abcd1234.pth"  # a write of a live process, slow but going on
    mine.write_bytes(b"still writing")
    earlier = tmp_path / ".tmp-k2j4h5g6.pth"  # an earlier version's name, without a process id
    earlier.write_bytes(b"old")
    atomic_write_text("{}", str(tmp_path / "record.json"))
    assert leftover.exists() and earlier.exists()  # under a minute old: a write may still be going on
    for path in (leftover, mine, earlier):
        age(path, 120)
    atomic_write_text("{}", str(tmp_path / "record.json"))
    assert not leftover.exists() and not earlier.exists()
    assert mine.read_bytes() == b"still writing"
    assert sorted(os.listdir(tmp_path)) == sorted(["anbn_srn2_1.pth", "record.json", mine.name])
