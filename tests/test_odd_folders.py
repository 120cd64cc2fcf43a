"""Folders that are not the usual: read-only, a name too long for the file system, a locale without UTF-8,
and a path with a space and a non-ASCII letter in it (the commands the report prints must run as printed)."""
import errno
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

import check_main
import report
import seq_train
from damage import PART2, part2_report, refused, snapshot
from lab.common.errors import run_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def read_only(request, monkeypatch):
    """Make a folder read-only. Permissions do not stop root, so for root nothing can be created inside the
    folder as on a read-only file system (os.mkdir and creating os.open fail with EROFS)."""
    def make(folder):
        folder = os.path.abspath(folder)
        if os.geteuid() != 0:
            os.chmod(folder, 0o555)
            request.addfinalizer(lambda: os.chmod(folder, 0o755))
            return
        inside = lambda path: os.path.abspath(os.fsdecode(path)).startswith(folder + os.sep)
        mkdir, open_ = os.mkdir, os.open

        def refuse_mkdir(path, *args, **kwargs):
            if inside(path):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
            return mkdir(path, *args, **kwargs)

        def refuse_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and inside(path):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
            return open_(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "mkdir", refuse_mkdir)
        monkeypatch.setattr(os, "open", refuse_open)
    return make


def test_report_in_a_read_only_project_is_a_sentence(tmp_path, read_only, capsys, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("the lab\n")
    before = snapshot(project)
    read_only(project)
    monkeypatch.chdir(project)
    err = refused(report.main, ["--parts", "2"], capsys)  # --out report, in the read-only folder
    assert f"cannot write the report into the folder {project}: " in err and "give --out a folder" in err
    assert snapshot(project) == before


@pytest.mark.parametrize("main, flags", [
    (seq_train.main, ["--epoch", "1", "--out_path", "{ro}/net", "--plot_path", "{ro}/plot"]),
    (check_main.main, ["--act", "step", "--hid", "4", "--set_weights", "--plot-dir", "{ro}/plot"]),
])
def test_commands_writing_into_a_read_only_folder_say_so(main, flags, tmp_path, read_only, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    read_only(folder)
    err = refused(main, [flag.format(ro=folder) for flag in flags], capsys)
    assert str(folder) in err
    assert os.listdir(folder) == []


LONG = "n" * 300  # bytes: file systems hold names of up to 255


@pytest.mark.parametrize("main, flags, message", [
    (report.main, ["--parts", "2", "--out", LONG], f"--out {LONG} cannot be a folder here: File name too long"),
    (seq_train.main, ["--epoch", "1", "--out_path", LONG],
     f"cannot create the folder {LONG}: File name too long"),
    (check_main.main, ["--act", "step", "--hid", "4", "--set_weights", "--plot-dir", LONG],
     f"cannot create the folder {LONG}: File name too long"),
])
def test_a_folder_name_too_long_is_a_sentence(main, flags, message, tmp_path, capsys, monkeypatch):
    (tmp_path / "earlier.txt").write_text("kept\n")
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert message in refused(main, flags, capsys)
    assert snapshot(tmp_path) == before


def python_first():
    """The environment with this Python's folder first on PATH, so that `python3` in a command is this Python."""
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                MPLBACKEND="Agg")


def test_the_page_is_utf8_under_a_locale_without_it(tmp_path):
    """LANG=C with Python's UTF-8 mode and locale coercion off: file names reach Python as escaped bytes."""
    out = part2_report(str(tmp_path / "Bericht_é"))
    env = dict(python_first(), LANG="C", LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "report.py"), "--parts", "2", "--reuse", "--out",
                           "Bericht_é"], cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    for page in ("index.html", "report.md"):
        with open(os.path.join(out, page), "rb") as handle:
            text = handle.read().decode("utf-8")  # valid UTF-8, with the folder's own letters
        assert "Bericht_é/part2/step_4_set" in text
    with open(os.path.join(out, "report.json"), encoding="utf-8") as handle:
        steps = json.load(handle)["results"]["steps"]
    assert steps["check_sig_5"]["command"] == "python3 check_main.py --act sig --hid 5 --plot-dir " \
                                              "'Bericht_é/part2/sig_5'"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".Bericht")]


def printed_commands(markdown):
    """Every command report.md shows: in the table of commands and in `backquotes` in the captions."""
    cells = [line.split(" | ")[-1].rstrip(" |") for line in markdown.splitlines() if line.startswith("| check_")]
    return set(cells) | set(re.findall(r"`(python3 [^`]*)`", markdown))


def test_the_commands_the_report_prints_run_as_printed(tmp_path, monkeypatch):
    """From a folder whose path holds a space and a non-ASCII letter, with the report in another such folder."""
    here = tmp_path / "Mein Ordner é"
    here.mkdir()
    os.symlink(os.path.join(ROOT, "check_main.py"), here / "check_main.py")  # where the commands expect it
    out = part2_report(str(here / "Bericht é"))
    monkeypatch.chdir(here)
    assert run_main(report.main, ["--parts", "2", "--reuse", "--out", "Bericht é"]) == 0
    with open(os.path.join(out, "report.md"), encoding="utf-8") as handle:
        commands = printed_commands(handle.read())
    expected = {("python3", *args[:-1], "Bericht é/" + args[-1]) for args, _ in PART2.values()}
    assert {tuple(shlex.split(command)) for command in commands} == expected
    step_4 = next(command for command in commands if "step_4_set" in command)
    ran = subprocess.run(step_4, shell=True, cwd=here, env=python_first(), capture_output=True, text=True,
                         timeout=300)
    assert ran.returncode == 0, ran.stderr
    with open(os.path.join(out, "part2", "step_4_set", "check_step_4_set.json"), encoding="utf-8") as handle:
        record = json.load(handle)
    assert record["command_line"] == "python3 check_main.py --act step --hid 4 --set_weights --plot-dir " \
                                     "'Bericht é/part2/step_4_set'"
    assert record["results"]["accuracy"] == 100.0  # the hand design classifies the nine points
    assert os.path.isfile(os.path.join(out, "part2", "step_4_set", "check_net_4.jpg"))
