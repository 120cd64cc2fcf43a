"""Locks that tell a live holder from a stale one, refusals that say how to clear them, and the temporary files
a killed write leaves behind."""
import json
import os
import shlex
import socket
import subprocess
import sys
import time

import pytest

import seq_train
from damage import snapshot
from lab.common.errors import UserError, run_main
from lab.common.files import atomic_write_text
from lab.common.locks import boot_id, exclusive, process_start

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc (Linux)")


def write_lock(path, **holder):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(holder))
    return path.read_bytes()


def this_test(**changes):
    """A holder that is this (live) test process, as a lock records it, with ``changes``."""
    return dict({"pid": os.getpid(), "started": process_start(os.getpid()), "boot": boot_id(),
                 "host": socket.gethostname(), "command": "seq_train.py --lang anbn"}, **changes)


def refusal(lock):
    """The message of the refusal to take ``lock``; the lock must be left as it was."""
    before = lock.read_bytes()
    with pytest.raises(UserError) as refused:
        with exclusive(str(lock), "the files"):
            pass
    assert lock.read_bytes() == before
    return str(refused.value)


@needs_proc
def test_a_process_start_time_counts_clock_ticks():
    """Two processes started a moment apart: their start times differ by that moment, in clock ticks."""
    tick = os.sysconf("SC_CLK_TCK")
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    times, children = [], []
    try:
        for _ in range(2):
            called = time.monotonic()
            children.append(subprocess.Popen(sleeper))
            times.append((called, time.monotonic()))
            time.sleep(0.3)
        starts = [process_start(child.pid) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    between = (starts[1] - starts[0]) / tick
    resolution = 1.0 / tick
    assert times[1][0] - times[0][1] - resolution <= between <= times[1][1] - times[0][0] + resolution


@needs_proc
def test_the_lock_records_who_holds_it_and_goes_at_the_end(tmp_path):
    lock = tmp_path / "net" / "anbn_srn2.lock"
    with exclusive(str(lock), "the files"):
        holder = json.loads(lock.read_text())
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert holder["started"] == process_start(os.getpid()) and holder["boot"] == boot_id()
    assert holder["command"] == shlex.join([os.path.basename(sys.argv[0]), *sys.argv[1:]])
    assert not lock.exists()


@needs_proc
def test_a_live_holder_is_refused_and_told_how_to_clear_it(tmp_path):
    lock = tmp_path / "my net" / "anbn_srn2.lock"
    write_lock(lock, **this_test())
    message = refusal(lock)
    assert f"process {os.getpid()} (seq_train.py --lang anbn) holds {lock}" in message
    assert f"remove the lock with `rm '{lock}'`" in message  # quoted: the folder's name has a space


def test_a_lock_without_a_start_time_is_refused_and_told_how_to_clear_it(tmp_path):
    """An earlier version's lock names only a process id: a live process of that id may be another program."""
    lock = tmp_path / "anbn_srn2.lock"
    write_lock(lock, pid=os.getpid(), host=socket.gethostname(), command="seq_train.py")
    assert f"`rm {lock}`" in refusal(lock)


@needs_proc
def test_a_recycled_process_id_is_a_stale_lock(tmp_path):
    """The lock's process id now belongs to a process that started later (this one): the lock is taken over."""
    lock = tmp_path / "anbn_srn2.lock"
    write_lock(lock, **this_test(started=process_start(os.getpid()) - 100))
    with exclusive(str(lock), "the files"):
        assert json.loads(lock.read_text())["started"] == process_start(os.getpid())


@pytest.mark.skipif(boot_id() is None, reason="needs /proc/sys/kernel/random/boot_id (Linux)")
def test_a_lock_from_before_the_machine_restarted_is_stale(tmp_path):
    lock = tmp_path / "anbn_srn2.lock"
    write_lock(lock, **this_test(boot="00000000-0000-0000-0000-000000000000"))
    with exclusive(str(lock), "the files"):
        assert json.loads(lock.read_text())["boot"] == boot_id()


def test_an_empty_lock_is_waited_for_a_minute_then_taken_over(tmp_path):
    """A lock file with nothing in it yet may be one being written this moment; after a minute it is a leftover."""
    lock = tmp_path / "anbn_srn2.lock"
    lock.write_text("")
    assert f"`rm {lock}`" in refusal(lock)
    old = time.time() - 120
    os.utime(lock, (old, old))
    with exclusive(str(lock), "the files"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def seq_flags(folder):
    return ["--lang", "anbn", "--epoch", "1", "--candidates", "1", "--out_path", str(folder / "net"),
            "--plot_path", str(folder / "plot")]


def test_a_lock_from_another_host_is_refused_with_how_to_clear_it_and_clearing_it_works(tmp_path, capsys):
    """A restarted container has another host name: its old lock cannot be checked, so the message says what to do."""
    lock = tmp_path / "net" / "anbn_srn2.lock"
    write_lock(lock, pid=os.getpid(), started=1, host="old-container-7f3a", command="seq_train.py --lang anbn")
    before = snapshot(tmp_path)
    assert run_main(seq_train.main, seq_flags(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "on the host 'old-container-7f3a'" in err and f"remove the lock with `rm {lock}` and run again" in err
    assert snapshot(tmp_path) == before
    os.remove(lock)  # what the message says to do
    assert run_main(seq_train.main, seq_flags(tmp_path)) == 0
    assert sorted(os.listdir(tmp_path / "net")) == ["anbn_srn2.json", "anbn_srn2_1.pth"]


@needs_proc
def test_seq_train_takes_over_the_lock_of_a_recycled_process_id(tmp_path, capsys):
    write_lock(tmp_path / "net" / "anbn_srn2.lock", **this_test(started=process_start(os.getpid()) - 100))
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
