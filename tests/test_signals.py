"""Ctrl-C and SIGTERM at any moment of a command: while it loads, while it works, in its last moments.

Each case starts a real command and sends the signal at a fixed point (after
a given line, or a fixed time after the start); whatever the moment, the
command must end with 130 ("interrupted") or 143 ("terminated") and that one
line, or finish normally with 0 and nothing on its error output. Before, a
Ctrl-C in the second or so after a command's last line ended it by the
signal itself (status -2, no line), and one while torch was loading printed
a traceback.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import default_signals
from lab.common import errors
from lab.common.errors import Terminated, UserError, run_main
from lab.recurrent.settings import EXPLAIN_MAX_LENGTH, ExplainSettings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK = ["check_main.py", "--act", "sig", "--hid", "4", "--set_weights"]


def start(argv, cwd):
    """A command of the lab as its own process, its output unbuffered so that its lines come as printed."""
    return subprocess.Popen([sys.executable, os.path.join(ROOT, argv[0]), *argv[1:]], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals,
                            env=dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg"))


def signalled(proc, signum, after_line=None, delay=0.0):
    """Send ``signum`` ``delay`` seconds after the line holding ``after_line`` (or after the start); returns
    (status, stderr)."""
    try:
        if after_line is not None:
            for line in proc.stdout:
                if after_line in line:
                    break
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("delay", [0.0, 0.2, 0.5, 0.9, 1.5, 2.0])
def test_ctrl_c_after_the_last_line_gives_130_or_a_clean_finish(tmp_path, delay):
    status, err = signalled(start([*CHECK, "--plot-dir", str(tmp_path)], tmp_path), signal.SIGINT, "Plots (", delay)
    assert (status, err) in ((0, ""), (130, "interrupted\n")), (status, err)


def lab_handlers_in_place(proc, timeout=60):
    """Wait until the command has run its first line (``import lab``), which puts the lab's SIGTERM handler in
    place: seen in /proc as SIGTERM among the signals it catches. Before that the interpreter itself is starting,
    and no program of ours can speak for a Ctrl-C then; how long that takes depends on how busy the machine is."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        with open(f"/proc/{proc.pid}/status", encoding="utf-8") as handle:
            caught = next(line for line in handle if line.startswith("SigCgt:")).split()[1]
        if int(caught, 16) >> (signal.SIGTERM - 1) & 1:
            return proc
        time.sleep(0.005)
    raise AssertionError("the command never put its signal handlers in place")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux) to see the handlers")
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.6, 1.0])
def test_ctrl_c_while_a_command_loads_gives_130_and_one_line(tmp_path, delay):
    proc = lab_handlers_in_place(start(["seq_explain.py", "--out_path", str(tmp_path)], tmp_path))
    status, err = signalled(proc, signal.SIGINT, delay=delay)
    assert (status, err) == (130, "interrupted\n")


@pytest.mark.parametrize("signum, status, line", [(signal.SIGINT, 130, "stopped by Ctrl-C after "),
                                                  (signal.SIGTERM, 143, "stopped by SIGTERM after ")])
def test_a_signal_while_a_command_works_unwinds_it(tmp_path, signum, status, line):
    proc = start(["seq_train.py", "--epoch", "100", "--out_path", str(tmp_path / "net"), "--plot_path",
                  str(tmp_path / "plot")], tmp_path)
    got, err = signalled(proc, signum, after_line="", delay=1.0)
    assert got == status and err.startswith(line) and err.count("\n") == 1  # seq_train.py's own line
    assert not [n for n in os.listdir(tmp_path / "net") if n.endswith(".lock")]  # its finally blocks ran


def test_run_main_gives_each_ending_its_status(capsys):
    def terminated(argv):
        raise Terminated

    assert run_main(terminated) == 143 and capsys.readouterr().err == "terminated\n"
    assert run_main(lambda argv: 7) == 7
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)  # put back after an in-process run


@pytest.mark.parametrize("signum, raised", [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_inside_a_deferred_block_is_raised_as_the_block_ends(signum, raised):
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, errors._terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = []
    try:
        with pytest.raises(raised):
            with errors.signals_deferred():
                signal.raise_signal(signum)
                reached.append("the rest of the block")
            reached.append("past the block")
        assert reached == ["the rest of the block"]
        assert signal.getsignal(signal.SIGTERM) is errors._terminate  # the handlers are back as they were
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with errors.signals_deferred():
            reached.append("a quiet block")
        assert reached[-1] == "a quiet block"
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def test_seq_explain_length_has_a_stated_bound(tmp_path):
    assert EXPLAIN_MAX_LENGTH == 40
    assert ExplainSettings(length=40).length == 40
    with pytest.raises(UserError, match="--length must be at most 40 for seq_explain.py, got 41: its record keeps"):
        ExplainSettings(length=41)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "seq_explain.py"), "--length", "300", "--out_path",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "at most 40" in done.stderr
    assert os.listdir(tmp_path) == []  # refused before anything was read or written
    helped = subprocess.run([sys.executable, os.path.join(ROOT, "seq_explain.py"), "--help"], capture_output=True,
                            text=True, timeout=120).stdout
    assert "seq_explain.py takes at most 40" in " ".join(helped.split())
