"""report.py's reuse and output folder: damaged explanations and images, --out links, one report at a time, signals.

One quick report of Part 3 is built for the module (about a minute on 2
cores); each test copies it, damages one thing, and builds again with
--reuse in this process with the steps' runs replaced by a stand-in that
notes which steps would run (a real run is not what is tested here). The
expected reasons are worked out by hand from the lab's definitions: an LSTM
with 3 units has a state of 6 values (hidden, then cell units), the string
of a^n b^2n c^3n with n = 1 is A B B C C C (symbols 0 1 1 2 2 2).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import report
from conftest import default_signals, processes_in
from damage import edit_json, part2_report
from lab.common.errors import run_main
from lab.report import content, viewer
from lab.report.steps import plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPLAIN = "part3/plot/anb2nc3n_lstm3_explain.json"


@pytest.fixture(scope="module")
def part3_report(quick_report_build):
    """The folder of a real `report.py --quick` (its Part 3 is what `--quick --parts 3` builds and reuses)."""
    ready = os.environ.get("LAB_PART3_REPORT")  # a report built before, to try many planted bugs without rebuilding
    return ready or quick_report_build[0]


@pytest.fixture
def copy(part3_report, tmp_path):
    """A copy of the Part 3 report to damage."""
    shutil.copytree(part3_report, tmp_path / "report")
    return tmp_path / "report"


@pytest.fixture
def ran(monkeypatch):
    """The names of the steps report.py runs in this test (their runs replaced: each fails at once)."""
    names = []

    def stand_in(step, folder, env):
        names.append(step.name)
        step.status, step.message = "failed", "not run in this test"

    monkeypatch.setattr(report, "run_step", stand_in)
    return names


def reuse(out, capsys, *more):
    """report.py --quick --parts 3 --reuse into ``out`` in this process; returns (status, stdout, stderr)."""
    status = run_main(report.main, ["--quick", "--parts", "3", "--reuse", "--out", str(out), *more])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def test_an_undamaged_report_is_reused_whole_with_its_3d_views(copy, ran, capsys):
    status, out, _ = reuse(copy, capsys)
    assert status == 0 and ran == [] and out.count("reused: ") == 11
    page = (copy / "index.html").read_text(encoding="utf-8")
    assert page.count('class="viewer3d"') == 2  # the LSTM's hidden and cell units


def first_inputs_nine(d):
    d["results"]["analysis"]["trajectories"][0]["inputs"][0] = 9


def states_cut_to_one(d):
    for t in d["results"]["analysis"]["trajectories"]:
        t["states"] = [s[:1] for s in t["states"]]


EXPLANATION_DAMAGE = {  # how the record is damaged -> what the reason must say (by hand: see the module's docstring)
    "lang anb2n": (lambda d: d["results"]["analysis"].update(lang="anb2n"),
                   "analysis.lang is 'anb2n', but its network (part3/net/anb2nc3n_lstm3_10.pth) has 'anb2nc3n'"),
    "lang klingon": (lambda d: d["results"]["analysis"].update(lang="klingon"), "analysis.lang is 'klingon'"),
    "input symbol 9": (first_inputs_nine, "analysis.trajectories[0].inputs are not the string of anb2nc3n with n = 1"),
    "length 0": (lambda d: d["results"]["analysis"].update(length=0), "analysis.length is 0, but its network"),
    "states of one value": (states_cut_to_one, "analysis.trajectories[0].states[0] has 1 values, expected 6"),
    "model srn": (lambda d: d["results"]["analysis"].update(model="srn"), "analysis.model is 'srn'"),
    "hid 2": (lambda d: d["results"]["analysis"].update(hid=2), "analysis.hid is 2, but its network"),
    "a string missing": (lambda d: d["results"]["analysis"]["trajectories"].pop(1),
                         "analysis.trajectories lack the string with n = 2"),
    "n twice": (lambda d: d["results"]["analysis"]["trajectories"][1].update(n=1),
                "analysis.trajectories[1].n is 1, expected a new n from 1 to 16"),
    "a state dropped": (lambda d: d["results"]["analysis"]["trajectories"][2]["states"].pop(),
                        "analysis.trajectories[2] has 17 states for 18 inputs"),
    "checkpoint elsewhere": (lambda d: d["results"].update(checkpoint="/etc/passwd"),
                             "results.checkpoint names no network inside the report's folder"),
    "checkpoint above the folder": (lambda d: d["results"].update(checkpoint="../../elsewhere/net.pth"),
                                    "results.checkpoint names no network inside the report's folder"),
    "checkpoint missing": (lambda d: d["results"].update(checkpoint="part3/net/gone.pth"), "no checkpoint"),
}


@pytest.mark.parametrize("case", EXPLANATION_DAMAGE)
def test_an_explanation_that_does_not_describe_its_network_is_run_again(copy, ran, capsys, case):
    change, reason = EXPLANATION_DAMAGE[case]
    edit_json(copy / EXPLAIN, change)
    status, out, _ = reuse(copy, capsys)
    assert ran == ["explain_anb2nc3n_lstm3"]  # only that step, and it was not drawn from
    line = next(line for line in out.splitlines() if line.startswith("--reuse: running"))
    assert line.startswith(f"--reuse: running explain_anb2nc3n_lstm3 again: {EXPLAIN}: ") and reason in line
    assert 'class="viewer3d"' not in (copy / "index.html").read_text(encoding="utf-8")


def test_the_page_never_draws_an_unchecked_explanation(copy):
    """A record damaged after its step ran (no --reuse involved): a note naming the file, no table, no 3-D view."""
    edit_json(copy / EXPLAIN, states_cut_to_one)
    steps = plan([3], quick=True)
    for step in steps:
        step.status = "ok"
    blocks = content.part3(content.Context(str(copy), "report", steps))
    notes = [b[1] for b in blocks if b[0] == "note"]
    # once where the explanation would be, once in "Beyond the training range", which reads the same record
    assert notes == 2 * [f"The explanation is not shown: {EXPLAIN}: analysis.trajectories[0].states[0] has 1 "
                         "values, expected 6 (the network's state)."]
    assert not [b for b in blocks if b[0] == "viewer"]
    assert len([b for b in blocks if b[0] == "viewer"]) == 0


def test_the_viewer_refuses_damaged_trajectories_itself(copy):
    analysis = json.loads((copy / EXPLAIN).read_text())["results"]["analysis"]
    assert len(viewer.views(analysis)) == 2
    analysis["trajectories"][0]["inputs"][0] = 9
    with pytest.raises(ValueError, match="inputs are not the string"):
        viewer.views(analysis)


def half(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def markers_only(path):
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9")


IMAGE_DAMAGE = {
    "deleted": (lambda p: p.unlink(), "is missing"),
    "cut to half": (half, "is cut short (no JPEG end marker)"),
    "not a JPEG": (lambda p: p.write_bytes(b"GIF89a" + b"\x00" * 100), "is not a JPEG image (no start marker)"),
    "both markers, no image": (markers_only, "does not decode as an image"),
    "empty": (lambda p: p.write_bytes(b""), "is not a JPEG image"),
}


@pytest.mark.parametrize("case", IMAGE_DAMAGE)
def test_a_missing_or_damaged_figure_runs_its_step_again(copy, ran, capsys, case):
    change, reason = IMAGE_DAMAGE[case]
    change(copy / "part3/plot/anb2nc3n_lstm3_3d_front.jpg")
    status, out, _ = reuse(copy, capsys)
    assert ran == ["plot_anb2nc3n_lstm3"]
    assert (f"--reuse: running plot_anb2nc3n_lstm3 again: part3/plot/anb2nc3n_lstm3_3d_front.jpg {reason}"
            in out)


def test_the_page_leaves_out_a_damaged_figure_of_a_step_just_run(copy):
    half(copy / "part3/plot/anb2nc3n_lstm3_3d_front.jpg")
    steps = plan([3], quick=True)
    for step in steps:
        step.status = "ok"
    ctx = content.Context(str(copy), "report", steps)
    shown = ctx.figures(ctx.record("plot_anb2nc3n_lstm3"), ".jpg")
    assert len(shown) == 5 and "part3/plot/anb2nc3n_lstm3_3d_front.jpg" not in shown  # 6 written, 1 cut short


def test_a_step_reading_a_network_trained_again_runs_again(copy, ran, capsys):
    (copy / "part3/net/anb2n_srn2_20.pth").unlink()
    status, out, _ = reuse(copy, capsys)
    assert ran == ["train_anb2n_srn2"]  # the others are skipped: their network failed to train
    assert "--reuse: running train_anb2n_srn2 again: part3/net/anb2n_srn2_20.pth is missing or empty" in out
    for name in ("plot_anb2n_srn2", "fsm_anb2n_srn2"):
        assert f"--reuse: running {name} again: it reads the output of train_anb2n_srn2, which runs again" in out
    assert "--reuse: running explain_anb2n_srn2 again: part3/plot/anb2n_srn2_explain.json: its network: " in out
    assert "reused: training the LSTM" in out  # the other network's steps are still reused


def test_the_part1_pairs_figure_is_checked_like_the_others(tmp_path, ran, capsys):
    """A Part 2 record that lists a figure: the figure cut to half its bytes runs that step again."""
    out = part2_report(str(tmp_path / "rep"))
    figure = tmp_path / "rep" / "part2" / "sig_5" / "out_5.jpg"
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(figure)
    plt.close(fig)
    edit_json(os.path.join(out, "part2/sig_5/check_sig_5.json"), lambda d: d.update(files=["part2/sig_5/out_5.jpg"]))
    assert run_main(report.main, ["--parts", "2", "--reuse", "--out", out]) == 0 and ran == []
    half(figure)
    run_main(report.main, ["--parts", "2", "--reuse", "--out", out])
    assert ran == ["check_sig_5"]
    assert "running check_sig_5 again: part2/sig_5/out_5.jpg is cut short" in capsys.readouterr().out


# --- --out as a link ------------------------------------------------------------------------------------------

def test_a_link_to_a_report_is_followed_and_stays(copy, ran, capsys, tmp_path):
    elsewhere = tmp_path / "disk2"
    elsewhere.mkdir()
    target = elsewhere / "report"
    copy.rename(target)
    (target / "index.html").unlink()
    link = tmp_path / "latest"
    link.symlink_to(target)
    status, _, _ = reuse(link, capsys)
    assert status == 0 and ran == []
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert (target / "index.html").is_file()
    assert sorted(os.listdir(tmp_path)) == ["disk2", "latest"] and os.listdir(elsewhere) == ["report"]


def test_a_dangling_link_or_a_link_to_a_file_is_refused_before_any_step(tmp_path, ran, capsys):
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "to_file").symlink_to(tmp_path / "notes.txt")
    for name, says in (("gone", "--out gone is a link to"), ("to_file", "is a link to the file")):
        status = run_main(report.main, ["--parts", "2", "--out", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert status == 1 and err.count("\n") == 1 and says.replace("gone", str(tmp_path / "gone")) in err
    assert "which does not exist" in run_main_err(report.main, ["--parts", "2", "--out", str(tmp_path / "gone")],
                                                  capsys)
    assert ran == []
    assert sorted(os.listdir(tmp_path)) == ["gone", "notes.txt", "to_file"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def run_main_err(main, argv, capsys):
    run_main(main, argv)
    return capsys.readouterr().err


# --- one report at a time, SIGTERM, a killed report -----------------------------------------------------------

def start_part2(out, cwd):
    """report.py --parts 2 into ``out`` as its own process, once its first step is running."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "report.py"), "--parts", "2", "--out", str(out)],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    assert " running: " in proc.stdout.readline()
    return proc


def steps_running(folder):
    """The process ids of the report's steps (check_main.py) running in a folder below ``folder``."""
    return processes_in(folder, "check_main.py")


def test_a_second_report_into_the_folder_is_refused_and_sigterm_stops_the_first(tmp_path, ran, capsys):
    out = tmp_path / "rep"
    part2_report(str(out))
    before = (out / "index.html").read_text()
    proc = start_part2(out, tmp_path)
    try:
        status = run_main(report.main, ["--parts", "2", "--out", str(out)])
        err = capsys.readouterr().err
        assert status == 1 and err.startswith(f"error: another run is writing a report into {out}: process "
                                               f"{proc.pid} ") and ran == []
        deadline = time.time() + 60
        while not steps_running(tmp_path) and time.time() < deadline:
            time.sleep(0.05)  # its process is started, but may not yet be check_main.py
        assert steps_running(tmp_path)  # the first report's step runs
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143 and err == "terminated\n"
    left = steps_running(tmp_path)
    assert left == [], [open(f"/proc/{pid}/stat").read() for pid in left]  # its step was stopped with it
    assert sorted(os.listdir(tmp_path)) == ["rep"]  # no half-built report, no lock left
    assert (out / "index.html").read_text() == before


def test_a_killed_report_leaves_no_lock_and_its_leftovers_go(tmp_path, ran, capsys):
    out = tmp_path / "rep"
    part2_report(str(out))
    proc = start_part2(out, tmp_path)
    proc.kill()  # SIGKILL: nothing of the report's own runs
    proc.communicate(timeout=60)
    for pid in steps_running(tmp_path):
        os.kill(pid, signal.SIGKILL)  # its step, left running alone
    assert [n for n in os.listdir(tmp_path) if n.startswith(".rep-building-")]
    assert run_main(report.main, ["--parts", "2", "--reuse", "--out", str(out)]) == 0 and ran == []
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_the_lock_is_the_systems_and_names_its_holder(tmp_path):
    """Two holders of one lock: the second is refused while the first holds it, and takes it once it is let go."""
    from lab.common.locks import held
    from lab.common.errors import UserError

    path = str(tmp_path / ".x.lock")
    with held(path, "x"):
        holder = json.loads(open(path).read())
        assert holder["pid"] == os.getpid()
        child = subprocess.run([sys.executable, "-c", f"from lab.common.locks import held\nwith held({path!r}, 'x'):"
                                "\n    pass"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert "another run is writing x: process " + str(os.getpid()) in child.stderr
    assert not os.path.exists(path)
    with held(path, "x"):
        pass
    with pytest.raises(UserError, match="cannot write the report into"):
        with held(str(tmp_path / "no" / "such" / ".lock"), "x", lambda reason: f"cannot write the report into: {reason}"):
            pass


def test_a_lock_file_replaced_while_taking_it_is_taken_again(tmp_path, monkeypatch):
    """The run before removes the lock file between this run's open and its lock, and a third run locks a new file
    under the name: this run must see that it locked a removed file, open the new one and be refused."""
    import fcntl

    from lab.common import locks
    from lab.common.errors import UserError

    path = str(tmp_path / ".x.lock")
    real, third = fcntl.flock, []

    def replaced_first(fd, how):
        if not third:
            os.remove(path)
            third.append(os.open(path, os.O_CREAT | os.O_RDWR))
            real(third[0], fcntl.LOCK_EX)
        return real(fd, how)

    monkeypatch.setattr(fcntl, "flock", replaced_first)
    with pytest.raises(UserError, match="another run is writing x"):
        with locks.held(path, "x"):
            pass
    os.close(third[0])
