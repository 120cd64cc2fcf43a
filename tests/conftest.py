"""Shared test fixtures: small synthetic KMNIST files in the real IDX format."""
import contextlib
import gzip
import importlib
import io
import os
import struct
import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test starts with one torch thread (restored after it), so a command run in-process has no thread
    count to choose and gives the same numbers on every run, however busy the machine (lab.common.threads)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_idx(path, array, magic):
    """Write a uint8 array as an IDX file (gzipped if the name ends in .gz)."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(data)


def _synthetic_kmnist(root, train, test, seed, draw, names):
    """Write KMNIST-shaped files under root/KMNIST/raw, ``draw(rng, labels)`` making each split's images."""
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "KMNIST", "raw")
    os.makedirs(folder, exist_ok=True)
    arrays = []
    for count in (train, test):
        labels = (np.arange(count) % 10).astype(np.uint8)
        rng.shuffle(labels)
        arrays += [draw(rng, labels), labels]
    for name, array, magic in zip(names, arrays, (2051, 2049, 2051, 2049)):
        write_idx(os.path.join(folder, name), array, magic)
    return arrays


def make_kmnist(root, train=640, test=200, seed=0):
    """Write a synthetic KMNIST under root/KMNIST/raw: each class a bright bar at its own row, plus noise.

    Training files are gzipped and test files plain, so both paths of the loader run.
    Returns (train_images, train_labels, test_images, test_labels) as numpy arrays.
    """
    def draw(rng, labels):
        images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
        return images

    return _synthetic_kmnist(root, train, test, seed, draw, ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


@pytest.fixture
def synthetic_kmnist(tmp_path):
    """A temporary data directory holding a small synthetic KMNIST; yields (root, arrays)."""
    root = str(tmp_path / "data")
    arrays = make_kmnist(root)
    return root, arrays


@pytest.fixture
def real_kmnist_root():
    """The genuine KMNIST from $KMNIST_DATA (CI points it at ../shared/data), or a skip saying why."""
    root = os.environ.get("KMNIST_DATA")
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    if not root:
        pytest.skip("real KMNIST not available: set KMNIST_DATA to the folder holding KMNIST/raw/")
    root = os.path.abspath(root)  # a relative path would be read again from each command's own folder
    folder = os.path.join(root, "KMNIST", "raw")
    if not all(os.path.exists(os.path.join(folder, n)) or os.path.exists(os.path.join(folder, n + ".gz")) for n in names):
        pytest.skip(f"real KMNIST not available: KMNIST_DATA={root} has no complete KMNIST/raw/")
    return root


@pytest.fixture
def no_display(monkeypatch):
    """No DISPLAY or WAYLAND_DISPLAY, so matplotlib draws to files only."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def is_jpeg(path):
    """Whether the file starts with the JPEG magic bytes."""
    with open(path, "rb") as handle:
        return handle.read(3) == b"\xff\xd8\xff"


def pytest_collection_modifyitems(session, config, items):
    """Opt-in random test order: with TEST_SHUFFLE_SEED=<n> set, shuffle the tests with random.Random(n).

    A test that passes alone but fails in another order depends on state some other test leaves behind.
    """
    import random

    seed = os.environ.get("TEST_SHUFFLE_SEED")
    if seed:
        random.Random(int(seed)).shuffle(items)


@pytest.hookimpl(optionalhook=True)  # only pytest-xdist knows this hook
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (pytest.ini): one worker per core, at most four (each worker holds its own torch, and the tests
    that time a command want a core of their own)."""
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4))


def interrupt(proc, ready, timeout=120):
    """Wait until ``ready()`` holds (or ``timeout`` seconds), send Ctrl-C (SIGINT) to ``proc``; returns its stderr."""
    import signal
    import time

    try:
        deadline = time.time() + timeout
        while not ready() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err


def default_signals():
    """For Popen's preexec_fn: give the child the default SIGINT handling.

    A shell starts a background job (``pytest &``) with SIGINT ignored, and a
    child inherits that, so a test that sends Ctrl-C to a child must undo it
    or the child never sees the signal.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def make_noisy_kmnist(root, train=300, test=100, seed=0):
    """Write a harder synthetic KMNIST under root/KMNIST/raw: each class a faint bar at its own row in strong noise.

    A network learns it over several epochs without reaching 100%, so that the first and the last epoch
    differ in loss and accuracy. Returns (train_images, train_labels, test_images, test_labels) as numpy arrays.
    """
    def draw(rng, labels):
        images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            rows = slice(2 + 2 * label, 4 + 2 * label)
            images[i, rows, 4:24] = np.maximum(images[i, rows, 4:24], 140)
        return images

    return _synthetic_kmnist(root, train, test, seed, draw, ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))




class LineHook(io.StringIO):
    """A stdout for running a command in-process: keeps the text and calls ``on_line(line)`` on each line.

    ``on_line`` may raise KeyboardInterrupt, which acts as Ctrl-C at that point of the run.
    """

    def __init__(self, on_line=None):
        super().__init__()
        self.on_line, self.pending = on_line, ""

    def write(self, text):
        count = super().write(text)
        if self.on_line is not None:
            self.pending += text
            *lines, self.pending = self.pending.split("\n")
            for line in lines:
                self.on_line(line)
        return count


def run_command(main, argv, on_line=None):
    """Run a command's ``main(argv)`` in-process as its command line would; returns (exit status, stdout, stderr)."""
    from lab.common.errors import run_main

    out, err = LineHook(on_line), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = run_main(main, argv)
    return status, out.getvalue(), err.getvalue()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(argv, cwd=None, env=None):
    """``python3 SCRIPT FLAGS...`` for a command of the lab, run in-process in ``cwd`` (the project's folder by
    default), without the two to four seconds a new Python spends loading torch: for tests of what a command does,
    not of its process (signals, start-up and exit have tests of their own with real processes). Returns a
    subprocess.CompletedProcess; argparse's refusals give status 2 as on the command line. ``env``: environment
    variables to set for the run (None: to remove)."""
    from lab.common.errors import run_main

    script = os.path.basename(argv[0])
    module = importlib.import_module(os.path.splitext(script)[0])
    out, err, before, argv_before = io.StringIO(), io.StringIO(), os.getcwd(), sys.argv
    environ_before = dict(os.environ)
    for name, value in (env or {}).items():
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    os.chdir(cwd or ROOT)
    sys.argv = [script, *map(str, argv[1:])]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = run_main(module.main, sys.argv[1:])
            except SystemExit as done:  # argparse's --help and refusals
                status = done.code if isinstance(done.code, int) else int(done.code is not None)
    finally:
        os.chdir(before)
        sys.argv = argv_before
        os.environ.clear()
        os.environ.update(environ_before)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def quick_report_build(tmp_path_factory):
    """(folder, completed process, synthetic data folder) of one real ``report.py --quick`` on synthetic KMNIST,
    built once for the whole test run: with pytest-xdist the first worker that needs it builds it and the others
    wait for it (a file lock in the run's shared folder). Tests copy it before changing anything in it."""
    import fcntl
    import json

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker of this run has its own folder in
    base, done_file = shared / "quick-report", shared / "quick-report.json"
    with open(shared / "quick-report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done_file.exists():
            base.mkdir()
            make_kmnist(str(base / "data"))
            done = subprocess.run([sys.executable, os.path.join(ROOT, "report.py"), "--out", str(base / "report"),
                                   "--quick", "--data", str(base / "data")], cwd=base, capture_output=True,
                                  text=True, timeout=900)
            done_file.write_text(json.dumps([done.returncode, done.stdout, done.stderr]))
    status, out, err = json.loads(done_file.read_text())
    assert status == 0, out[-3000:] + err[-3000:]
    return base / "report", subprocess.CompletedProcess([], status, out, err), base / "data"


def processes_in(folder, running=""):
    """The ids of the live processes whose working folder is below ``folder`` (or is it), and whose command line
    holds ``running``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                line = handle.read().decode(errors="replace")
            where = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if (where == str(folder) or where.startswith(str(folder) + os.sep)) and running in line:
            found.append(int(pid))
    return found
