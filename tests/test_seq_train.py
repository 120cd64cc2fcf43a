"""Tests for seq_train.py: it learns, writes its checkpoints where it says, stops cleanly, rejects bad input."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

import seq_train
from conftest import default_signals, run_command, run_script
from lab.common.errors import run_main
from lab.recurrent.series import RESUME_SETTINGS
from lab.recurrent.settings import TrainSettings
from lab.recurrent.training import build_network, train
from seq_models import load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def losses(text):
    return [float(line.split()[1]) for line in text.splitlines() if line.startswith("loss: ")]


def test_short_training_run_learns(tmp_path, capsys):
    status = seq_train.main(["--lang", "anbn", "--model", "lstm", "--hid", "2", "--epoch", "4",
                             "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    out = capsys.readouterr().out
    assert status == 0
    values = losses(out)
    assert len(values) == 4
    assert values[-1] < 0.3 * values[0], values
    assert "symbol= A" in out and "epoch: 4" in out
    assert "verdict on 100 fresh sequences" in out
    # --epoch 4 is no multiple of 10: the run still ends with a checkpoint of what it learned
    assert sorted(os.listdir(tmp_path)) == ["anbn_lstm2.json", "anbn_lstm2_4.pth", "plot"]
    assert os.listdir(tmp_path / "plot") == ["anbn_lstm2_loss.jpg"]


def test_same_command_same_numbers(tmp_path, capsys):
    args = ["--lang", "reber", "--model", "srn", "--hid", "3", "--epoch", "1", "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")]
    seq_train.main(args)
    first = capsys.readouterr().out
    seq_train.main(args)
    second = capsys.readouterr().out
    assert len(losses(first)) == 1 and losses(first) == losses(second) and "symbol= B" in first
    assert first.replace(str(tmp_path), "") .split("trained on")[0] == second.replace(str(tmp_path), "").split("trained on")[0]


def test_until_stops_with_checkpoint_named_in_thousands(tmp_path, capsys):
    """A generous --until stops after 10 reports; checkpoints are <lang>_<model><hid>_<k>.pth."""
    status = seq_train.main(["--lang", "anb2n", "--epoch", "40", "--until", "1.0", "--batch", "50",
                             "--candidates", "1", "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    out = capsys.readouterr().out
    assert status == 0
    assert "stopping: the loss stayed below 1.0 for the last 10 reports" in out
    assert sorted(os.listdir(tmp_path)) == ["anb2n_srn2.json", "anb2n_srn2_10.pth", "plot"]
    model, ckpt = load_checkpoint(tmp_path / "anb2n_srn2_10.pth")
    assert ckpt["seen"] == 10000 and ckpt["config"]["lang"] == "anb2n" and ckpt["config"]["num_hid"] == 2
    raw = torch.load(tmp_path / "anb2n_srn2_10.pth", weights_only=True)
    assert set(raw["state_dict"]) == set(model.state_dict())


def test_candidates_keep_one_plain_network(tmp_path, capsys):
    status = seq_train.main(["--lang", "anb2n", "--epoch", "2", "--candidates", "4", "--select", "1",
                             "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    out = capsys.readouterr().out
    assert status == 0 and "final choice" in out
    model, ckpt = load_checkpoint(tmp_path / "anb2n_srn2_2.pth")
    assert model.rnn.hidden_size == 2 and ckpt["config"]["candidates"] == 4


@pytest.mark.parametrize("argv,message", [
    (["--lang", "anb3n"], "invalid choice: 'anb3n'"),
    (["--embed"], "--embed applies to --lang reber only"),
    (["--hid", "0"], "must be above 0"),
    (["--hid", "100000"], "must be at most 1024"),
    (["--lr", "-0.1"], "must be above 0"),
    (["--epoch", "ten"], "'ten' is not a whole number"),
    (["--batch", "0"], "argument --batch: must be at least 1, got 0"),
    (["--batch", "1001"], "argument --batch: must be at most 1000, got 1001"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--seed", "99999999999999999999"], "argument --seed: must be at most 4294967295"),
    (["--lr", "1e40"], "'1e40' is not a finite number"),
    (["--length", "0"], "--length (largest n) must be at least 1"),
    (["--optim", "adam", "--mom", "0.9"], "--mom applies to --optim sgd only"),
    (["--optim", "sgd", "--mom", "1.5"], "argument --mom: must be below 1, got 1.5"),
    (["--model", "lstm", "--init", "0.1"], "--init applies to --model srn only"),
    (["--candidates", "2", "--select", "200"], "--select (200) must not exceed --epoch (100)"),
])
def test_bad_input_gives_message_and_nonzero_exit(argv, message, capsys, tmp_path):
    try:
        status = run_main(seq_train.main, argv + ["--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    err = capsys.readouterr().err
    assert status != 0
    assert message in err
    assert "Traceback" not in err
    assert not os.listdir(tmp_path)


def test_bad_input_from_the_command_line_has_no_traceback():
    proc = run_script(["seq_train.py", "--lang", "anb2n", "--length", "0"])
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: --length (largest n) must be at least 1")
    assert "Traceback" not in proc.stderr
    proc = run_script(["seq_train.py", "--lang", "reber", "--length", "-1"])
    assert proc.returncode == 2 and "argument --length: must be at least 0, got -1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_leaves_a_loadable_checkpoint(tmp_path):
    """SIGINT after the first checkpoint: exit 130, one line naming the checkpoint, nothing half written."""
    ckpt = tmp_path / "anb2n_srn2_10.pth"
    proc = subprocess.Popen([sys.executable, "seq_train.py", "--lang", "anb2n", "--epoch", "1000", "--batch", "50",
                             "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    try:
        deadline = time.time() + 120
        while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert ckpt.exists(), "no checkpoint within 120 s"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert f"last checkpoint: {ckpt}" in err
    assert "Traceback" not in err
    model, saved = load_checkpoint(ckpt)
    assert saved["seen"] >= 10000
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


@pytest.mark.parametrize("script", ["seq_train", "seq_plot", "seq_fsm"])
def test_help_states_real_defaults(script, capsys):
    """No argparse "(default: None)" and the like: each help text says the real default itself."""
    module = __import__(script)
    with pytest.raises(SystemExit):
        module.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for wrong in ("(default: None)", "(default: False)", "(default per language)"):
        assert wrong not in text
    assert "(default: anb2n)" in text and "(default: srn)" in text


def test_unwritable_out_path_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    status = run_main(seq_train.main, ["--lang", "anbn", "--epoch", "1", "--out_path", str(blocker / "net"),
                                       "--plot_path", str(tmp_path / "plot")])
    captured = capsys.readouterr()
    assert status == 1 and "cannot create the folder" in captured.err
    assert "epoch:" not in captured.out


def _train_args(out, *extra):
    return ["seq_train.py", "--lang", "anb2n", "--epoch", "20", "--candidates", "3", "--select", "20", "--batch",
            "50", "--out_path", str(out), "--plot_path", str(out / "plot"), *extra]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    """An uninterrupted run with 3 candidates, chosen for good at 20k: checkpoint 10 is written before the choice."""
    folder = tmp_path_factory.mktemp("whole")
    done = run_script(_train_args(folder))
    assert done.returncode == 0, done.stderr
    return folder, done.stdout


def test_every_checkpoint_of_a_run_holds_the_network_it_delivers(whole_run):
    """With candidates, checkpoints written before the choice are rewritten with the chosen network."""
    folder, out = whole_run
    chosen = int(re.search(r"loss: [\d.]+ \(candidate (\d+), final choice\)", out).group(1))
    assert f"rewrote 1 earlier checkpoint(s) with candidate {chosen}" in out
    saved = {k: torch.load(folder / f"anb2n_srn2_{k}.pth", weights_only=True) for k in (10, 20)}
    assert [saved[k]["candidate"] for k in saved] == [chosen] * 2
    assert all(saved[k]["chosen_for_good"] and saved[k]["seen"] == 1000 * k and saved[k]["seed"] == 0 for k in saved)
    record = json.loads((folder / "anb2n_srn2.json").read_text())
    assert record["results"]["last_checkpoint"] == str(folder / "anb2n_srn2_20.pth")
    assert record["results"]["chosen"] == chosen
    # checkpoint 10 holds the chosen candidate at 10k: its loss there is that candidate's own report
    losses = record["results"]["candidate_losses"]
    assert saved[20]["loss"] == pytest.approx(losses[chosen], rel=1e-6)
    assert not torch.equal(saved[10]["state_dict"]["rnn.weight_hh_l0"], saved[20]["state_dict"]["rnn.weight_hh_l0"])


def test_ctrl_c_then_resume_ends_with_the_same_network(whole_run, tmp_path):
    """Ctrl-C (in-process, at the first line after checkpoint 10) and --resume: the same network as the whole run."""
    whole, out = whole_run
    parts = tmp_path / "parts"

    def ctrl_c_after_checkpoint_10(line):
        if (parts / "anb2n_srn2_10.pth").exists():
            raise KeyboardInterrupt
    status, _, err = run_command(seq_train.main, _train_args(parts)[1:], ctrl_c_after_checkpoint_10)
    assert status == 130 and "go on with --resume" in err, err
    again = run_script(_train_args(parts, "--resume"))
    assert again.returncode == 0, again.stderr
    assert "resuming from" in again.stdout
    last_line = lambda text: [line for line in text.splitlines() if line.startswith("loss: ")][-1]
    assert last_line(again.stdout) == last_line(out)
    for k in (10, 20):  # the rewritten checkpoint 10 included: the resumed run kept the population's history
        a = torch.load(whole / f"anb2n_srn2_{k}.pth", weights_only=True)
        b = torch.load(parts / f"anb2n_srn2_{k}.pth", weights_only=True)
        assert a["candidate"] == b["candidate"] and all(torch.equal(a["state_dict"][n], b["state_dict"][n])
                                                        for n in a["state_dict"])


def test_resume_refuses_another_runs_state(tmp_path, capsys):
    assert seq_train.main(["--lang", "anbn", "--epoch", "1", "--candidates", "1", "--out_path", str(tmp_path),
                           "--plot_path", str(tmp_path / "plot")]) == 0
    capsys.readouterr()
    status = run_main(seq_train.main, ["--lang", "anbn", "--epoch", "2", "--candidates", "1", "--lr", "0.5",
                                       "--resume", "--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    err = capsys.readouterr().err
    assert status == 1 and "is from a run with other settings: lr 0.003 (now 0.5)" in err
    status = run_main(seq_train.main, ["--lang", "anb2n", "--resume", "--out_path", str(tmp_path)])
    assert status == 1 and "no checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    # --help's defaults: (hid, epoch, optim, lr, mom, init, batch, candidates, select = half of --epoch)
    ([], (2, 100, "adam", 0.003, 0.0, 0.5, 10, 8, 50)),
    (["--lang", "anb2nc3n", "--model", "lstm"], (3, 50, "adam", 0.01, 0.0, None, 10, 1, 25)),
    (["--lang", "reber"], (4, 50, "adam", 0.003, 0.0, 0.5, 10, 8, 25)),
    (["--lang", "reber", "--embed", "--model", "lstm"], (8, 100, "adam", 0.01, 0.0, None, 10, 1, 50)),
    (["--hid", "5", "--epoch", "7", "--optim", "sgd", "--mom", "0.5"], (5, 7, "sgd", 0.003, 0.5, 0.5, 10, 8, 3)),
])
def test_settings_get_the_documented_defaults_once(argv, expected):
    s = settings = seq_train.parse_args(argv)
    assert (s.hid, s.epoch, s.optim, s.lr, s.mom, s.init, s.batch, s.candidates, s.select) == expected
    assert s == TrainSettings(**vars(seq_train.build_parser().parse_args(argv)))  # the flags' defaults are its own
    config = settings.as_config()  # the run record's settings and a resumed run's comparison: the flags' names
    assert list(config) == ["lang", "embed", "length", "model", "hid", "optim", "lr", "mom", "init", "epoch", "batch",
                            "candidates", "select", "until", "out_path", "plot_path", "seed", "resume", "threads",
                            "recipe"]
    assert set(RESUME_SETTINGS) <= set(config)


def test_a_training_run_returns_what_it_produced(tmp_path):
    """train() hands back the reports, the delivered network and its verdict; it writes only its checkpoint."""
    settings = TrainSettings(lang="anbn", epoch=2, candidates=1, batch=50, out_path=str(tmp_path))
    lang = settings.language()
    torch.manual_seed(0)
    lines = []
    result = train(settings, build_network(settings, lang), lang, log=lines.append)
    assert [k for k, _ in result.reports] == [1, 2] and result.seen == 2000 and result.chosen is None
    assert result.last_checkpoint == str(tmp_path / "anbn_srn2_2.pth") and os.listdir(tmp_path) == ["anbn_srn2_2.pth"]
    assert result.verdict["sequences"] == 100 and result.candidate_losses is None
    assert f"loss: {result.reports[-1][1]:.4f}" in lines  # the losses it printed are the ones it returns
    model, saved = load_checkpoint(result.last_checkpoint)
    assert saved["seen"] == 2000 and all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                                           result.network.state_dict().values()))
