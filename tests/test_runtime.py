"""The shared plumbing: atomic writes, exit statuses, devices, headless figures."""
import os

import pytest
import torch

import runtime


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = str(tmp_path / "net.pth")
    runtime.atomic_torch_save({"version": 1}, path)

    def broken_save(obj, target):
        with open(target, "wb") as handle:
            handle.write(b"half a file")
        raise KeyboardInterrupt  # as if Ctrl-C came in the middle of writing

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        runtime.atomic_torch_save({"version": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"version": 1}
    assert os.listdir(tmp_path) == ["net.pth"]


def test_written_files_get_the_usual_permissions_and_unwritable_paths_are_user_errors(tmp_path):
    umask = os.umask(0o022)
    try:
        path = str(tmp_path / "a.txt")
        runtime.atomic_write_text("x", path)
        assert os.stat(path).st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)
    (tmp_path / "file").write_text("")
    with pytest.raises(runtime.UserError, match="cannot create the folder"):
        runtime.atomic_write_text("x", str(tmp_path / "file" / "b.txt"))


def test_run_main_turns_errors_into_exit_statuses(capsys):
    def fails(argv):
        raise runtime.UserError("no such file: x.csv")

    def interrupted(argv):
        raise KeyboardInterrupt

    assert runtime.run_main(fails) == 1
    assert capsys.readouterr().err == "error: no such file: x.csv\n"
    assert runtime.run_main(interrupted) == 130
    assert runtime.run_main(lambda argv: None) == 0


def test_pick_device():
    assert runtime.pick_device("cpu").type == "cpu"
    assert runtime.pick_device("auto", no_cuda=True).type in ("cpu", "mps")
    with pytest.raises(runtime.UserError, match="--no_cuda"):
        runtime.pick_device("cuda", no_cuda=True)


def test_save_figure_writes_a_jpeg_without_a_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    plt = runtime.pyplot(show=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = runtime.save_figure(fig, str(tmp_path / "sub" / "line.jpg"))
    with open(path, "rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"  # the JPEG signature
    assert not plt.get_fignums()


def test_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    code = "import sys, runtime\nsys.exit(runtime.run_main(lambda argv: [print(i) for i in range(200000)]))"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    assert process.wait(timeout=60) == 141
    assert b"Traceback" not in process.stderr.read()
