"""The shared plumbing: atomic writes, exit statuses, devices, headless figures."""
import os

import pytest
import torch

from lab.common.compute import pick_device, torch_threads
from lab.common.errors import UserError, run_main
from lab.common.figures import pyplot, save_figure
from lab.common.files import atomic_torch_save, atomic_write_text


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = str(tmp_path / "net.pth")
    atomic_torch_save({"version": 1}, path)

    def broken_save(obj, target):
        with open(target, "wb") as handle:
            handle.write(b"half a file")
        raise KeyboardInterrupt  # as if Ctrl-C came in the middle of writing

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save({"version": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"version": 1}
    assert os.listdir(tmp_path) == ["net.pth"]


def test_written_files_get_the_usual_permissions_and_unwritable_paths_are_user_errors(tmp_path):
    umask = os.umask(0o022)
    try:
        path = str(tmp_path / "a.txt")
        atomic_write_text("x", path)
        assert os.stat(path).st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="cannot create the folder"):
        atomic_write_text("x", str(tmp_path / "file" / "b.txt"))


def test_run_main_turns_errors_into_exit_statuses(capsys):
    def fails(argv):
        raise UserError("no such file: x.csv")

    def interrupted(argv):
        raise KeyboardInterrupt

    assert run_main(fails) == 1
    assert capsys.readouterr().err == "error: no such file: x.csv\n"
    assert run_main(interrupted) == 130
    assert run_main(lambda argv: None) == 0


def fake_devices(monkeypatch, cuda, mps):
    """Make torch report CUDA and MPS as (un)available, whatever this machine has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    if mps is None:  # a torch built without the MPS backend at all
        monkeypatch.delattr(torch.backends, "mps", raising=False)
    else:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize("cuda, mps, no_cuda, auto", [
    (True, True, False, "cuda"),    # auto: CUDA first
    (True, True, True, "mps"),      # --no_cuda rules CUDA out: then MPS
    (True, False, True, "cpu"),
    (False, True, False, "mps"),
    (False, False, False, "cpu"),
    (False, None, False, "cpu"),    # no MPS backend in this torch
])
def test_pick_device_auto_takes_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, no_cuda, auto):
    fake_devices(monkeypatch, cuda, mps)
    assert pick_device("auto", no_cuda=no_cuda) == torch.device(auto)
    assert pick_device(no_cuda=no_cuda) == torch.device(auto)  # auto is the default
    assert pick_device("cpu", no_cuda=no_cuda) == torch.device("cpu")  # the CPU is always there


def test_pick_device_gives_the_device_asked_for_when_it_is_there(monkeypatch):
    fake_devices(monkeypatch, cuda=True, mps=True)
    assert pick_device("cuda") == torch.device("cuda")
    assert pick_device("mps") == torch.device("mps")
    assert pick_device("mps", no_cuda=True) == torch.device("mps")


def test_pick_device_refuses_a_device_that_is_not_there(monkeypatch):
    fake_devices(monkeypatch, cuda=False, mps=False)
    with pytest.raises(UserError) as err:
        pick_device("cuda")
    assert str(err.value) == "--device cuda asked for, but torch sees no CUDA device here; use --device cpu or auto"
    with pytest.raises(UserError) as err:
        pick_device("mps")
    assert str(err.value) == "--device mps asked for, but this torch has no MPS device; use --device cpu or auto"
    monkeypatch.undo()
    fake_devices(monkeypatch, cuda=True, mps=None)
    with pytest.raises(UserError) as err:
        pick_device("cuda", no_cuda=True)  # CUDA is there, but the user ruled it out
    assert str(err.value) == "--device cuda asked for, but --no_cuda was given; use --device cpu or auto"
    with pytest.raises(UserError, match="no MPS device"):
        pick_device("mps")


def test_torch_threads_sets_the_count_for_the_block_and_restores_it():
    at_start = torch.get_num_threads()
    try:
        torch.set_num_threads(3)  # a distinctive count, whatever the earlier tests left
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
        with pytest.raises(RuntimeError, match="inside"):
            with torch_threads(2):
                assert torch.get_num_threads() == 2
                raise RuntimeError("failure inside the block")
        assert torch.get_num_threads() == 3  # restored after a failure too
    finally:
        torch.set_num_threads(at_start)


def test_save_figure_writes_a_jpeg_without_a_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    plt = pyplot(show=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_figure(fig, str(tmp_path / "sub" / "line.jpg"))
    with open(path, "rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"  # the JPEG signature
    assert not plt.get_fignums()


def test_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    code = "import sys\nfrom lab.common.errors import run_main\nsys.exit(run_main(lambda argv: [print(i) for i in range(200000)]))"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    assert process.wait(timeout=60) == 141
    assert b"Traceback" not in process.stderr.read()
