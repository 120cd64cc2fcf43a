"""Damaged checkpoints and run records, refused by the commands that read them.

Each test damages one file in one way, runs the real command on it and
asserts: exit status 1, one sentence that names the user's file and the
place in it, no traceback, and every file that was there before left
byte-for-byte as it was (no image drawn over, no temporary folder left).
"""
import os

import pytest

import report
import seq_fsm
import seq_plot
from damage import damage, edit_json, part2_report, refused, seq_checkpoint, snapshot
from kuzu import build_model as build_kuzu, load_checkpoint as load_kuzu, model_settings, save_kuzu_checkpoint
from lab.common.checkpoints import CheckpointError
from lab.common.errors import run_main


# --- checkpoints: seq_plot.py and seq_fsm.py --------------------------------------------------------------------

def nan_weights(data):
    data["state_dict"]["rnn.weight_hh_l0"][0, 1] = float("nan")


def infinite_bias(data):
    data["state_dict"]["out.bias"][1] = float("-inf")


CHECKPOINT_DAMAGE = {  # how the file is damaged -> what the message must say about it
    "NaN weights": (nan_weights, "state_dict['rnn.weight_hh_l0'] holds NaN"),
    "an infinite bias": (infinite_bias, "state_dict['out.bias'] holds infinity"),
    "10^12 hidden units": (lambda d: d["config"].update(num_hid=10**12),
                           "config.num_hid is 1000000000000, expected a whole number from 1 to 1024"),
    "a size that is text": (lambda d: d["config"].update(num_input="two"),
                            "num_input is 'two', expected a whole number"),
    "a model of no kind": (lambda d: d["config"].update(model="gru"), "config.model is 'gru', expected one of srn"),
    "weights that are lists": (lambda d: d.update(state_dict={"H0": [0.0, 0.0]}),
                               "state_dict.H0 is a list of 2 item(s), expected a tensor"),
    "sequences seen as text": (lambda d: d.update(seen="many"), "seen is 'many', expected a whole number"),
}


@pytest.fixture
def checkpoint_folder(tmp_path):
    """net/anb2n_srn2_1.pth (a good checkpoint) and plot/ holding images and a record of an earlier run."""
    seq_checkpoint(tmp_path / "net" / "anb2n_srn2_1.pth")
    (tmp_path / "plot").mkdir()
    (tmp_path / "plot" / "anb2n_srn2_01.jpg").write_bytes(b"\xff\xd8\xff an earlier image")
    (tmp_path / "plot" / "anb2n_srn2.json").write_text('{"results": {}}\n')
    return tmp_path


@pytest.mark.parametrize("how", CHECKPOINT_DAMAGE)
@pytest.mark.parametrize("command", [seq_plot, seq_fsm])
def test_a_damaged_checkpoint_is_refused_naming_the_file(command, how, checkpoint_folder, capsys):
    path = str(checkpoint_folder / "net" / "anb2n_srn2_1.pth")
    change, message = CHECKPOINT_DAMAGE[how]
    damage(path, change)
    before = snapshot(checkpoint_folder)
    err = refused(command.main, ["--checkpoint", path, "--plot_path", str(checkpoint_folder / "plot")], capsys)
    assert f"{path}: " in err and message in err
    assert snapshot(checkpoint_folder) == before


def test_nan_weights_found_by_name_are_refused_too(checkpoint_folder, capsys):
    """The checkpoint picked by --lang/--epoch in --out_path, as the report's steps pick it."""
    path = str(checkpoint_folder / "net" / "anb2n_srn2_1.pth")
    damage(path, nan_weights)
    before = snapshot(checkpoint_folder)
    err = refused(seq_plot.main, ["--lang", "anb2n", "--epoch", "1", "--out_path", str(checkpoint_folder / "net"),
                                  "--plot_path", str(checkpoint_folder / "plot")], capsys)
    assert f"{path}: state_dict['rnn.weight_hh_l0'] holds NaN" in err
    assert snapshot(checkpoint_folder) == before


def test_an_unknown_language_is_refused_naming_the_checkpoint(checkpoint_folder, capsys):
    path = str(checkpoint_folder / "net" / "anb2n_srn2_1.pth")
    damage(path, lambda d: d["config"].update(lang="klingon"))
    before = snapshot(checkpoint_folder)
    err = refused(seq_plot.main, ["--checkpoint", path, "--plot_path", str(checkpoint_folder / "plot")], capsys)
    assert path in err and "klingon" in err
    assert snapshot(checkpoint_folder) == before


@pytest.mark.parametrize("change, message", [
    (lambda d: d["state_dict"]["hid.weight"].fill_(float("nan")), "state_dict['hid.weight'] holds NaN (not a number), expected finite values"),
    (lambda d: d["config"].update(hid=10**9), "config.hid is 1000000000, expected a whole number from 1 to 100000"),
    (lambda d: d["config"].update(net="rnn"), "config.net is 'rnn', expected one of lin, full, conv"),
])
def test_a_damaged_kuzu_checkpoint_is_refused_naming_the_file(tmp_path, change, message):
    path = str(tmp_path / "full.pth")
    save_kuzu_checkpoint(path, build_kuzu("full", hid=3), model_settings("full", hid=3), epoch=1, accuracy=0.5)
    damage(path, change)
    with pytest.raises(CheckpointError) as refusal:
        load_kuzu(path)
    assert str(refusal.value) == f"{path}: {message}"


# --- run records: report.py --reuse ----------------------------------------------------------------------------

SIG_5, STEP_4 = "part2/sig_5/check_sig_5.json", "part2/step_4_set/check_step_4_set.json"
RECORD_DAMAGE = {  # how -> (the file, the change, what the message must say)
    "steps a list": ("report.json", lambda d: d["results"].update(steps=["check_sig_5"]),
                     "results.steps is a list of 1 item(s), expected a dict"),
    "results text": ("report.json", lambda d: d.update(results="done"), "results is 'done', expected a dict"),
    "seconds 'fast'": ("report.json", lambda d: d["results"]["steps"]["check_sig_5"].update(seconds="fast"),
                       "results.steps.check_sig_5.seconds is 'fast', expected a finite number"),
    "accuracy text": (SIG_5, lambda d: d["results"].update(accuracy="high"),
                      "results.accuracy is 'high', expected a finite number from 0 to 100"),
    "results a list": (SIG_5, lambda d: d.update(results=[100.0]), "results is a list of 1 item(s), expected a dict"),
    "files text": (SIG_5, lambda d: d.update(files="hid_5_0.jpg"), "files is 'hid_5_0.jpg', expected a list"),
    "epochs text": (SIG_5, lambda d: d["results"].update(epochs="many"), "results.epochs is 'many'"),
    "dividing lines a number": (STEP_4, lambda d: d["results"].update(dividing_lines=5),
                                "results.dividing_lines is 5, expected a list"),
    "a dividing line a number": (STEP_4, lambda d: d["results"].update(dividing_lines=["H1", 2]),
                                 "results.dividing_lines[1] is 2, expected text"),
    "accuracy NaN": (STEP_4, lambda d: d["results"].update(accuracy=float("nan")), "results.accuracy is nan"),
}


@pytest.mark.parametrize("how", RECORD_DAMAGE)
def test_a_damaged_record_is_refused_before_anything_is_written(how, tmp_path, capsys, monkeypatch):
    out = part2_report(str(tmp_path / "rep"))
    name, change, message = RECORD_DAMAGE[how]
    edit_json(os.path.join(out, name), change)
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    err = refused(report.main, ["--parts", "2", "--reuse", "--out", out], capsys)
    assert f"{os.path.join(out, name)}: {message}" in err  # the user's file, not a copy of it
    assert ".rep-building-" not in err
    assert snapshot(tmp_path) == before  # no temporary folder left, nothing rewritten


def test_a_damaged_record_as_a_command_line_user_sees_it(tmp_path, capsys, monkeypatch):
    """The whole message, for --out given as a relative folder: the file is named as the user named its folder."""
    out = part2_report(str(tmp_path / "rep"))
    edit_json(os.path.join(out, "report.json"), lambda d: d["results"]["steps"]["check_sig_5"].update(seconds="fast"))
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    err = refused(report.main, ["--parts", "2", "--reuse", "--out", "rep"], capsys)
    assert err == ("error: --reuse: rep/report.json: results.steps.check_sig_5.seconds is 'fast', expected a finite "
                   "number at least 0; build the report without --reuse\n")
    assert snapshot(tmp_path) == before


def test_the_undamaged_report_is_reused_whole(tmp_path, capsys, monkeypatch):
    """The folder the tests above damage is itself good: every step reused, the pages written anew."""
    out = part2_report(str(tmp_path / "rep"))
    monkeypatch.chdir(tmp_path)
    assert run_main(report.main, ["--parts", "2", "--reuse", "--out", out]) == 0
    assert capsys.readouterr().out.count("reused: ") == 3
    assert "Trained: accuracy 100.00%, 2000 epochs" in open(os.path.join(out, "report.md"), encoding="utf-8").read()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".rep-")]
