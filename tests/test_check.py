"""Tests for Part 2: the check data, the hand-designed network, training, plots and bad input."""
import contextlib
import io
import os
import re

from conftest import run_script

import pytest
import torch
import torch.nn.functional as F

import check
import check_main
from lab.check.adam import FullBatchAdam
from lab.check.data import load_data
from lab.check.readouts import accuracy, dividing_lines
from lab.check.settings import Settings
from lab.check.training import train
from lab.common.errors import UserError, run_main
from lab.common.compute import seed_everything

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STEP_TABLE = """\
   x1    x2    H1    H2    H3    H4   out target
 0.00  0.00     0     0     0     0     0      0
 0.00  1.00     1     0     0     0     1      1
 0.00  2.00     1     1     0     0     0      0
 1.00  0.00     1     0     0     0     1      1
 1.00  1.00     1     1     0     0     0      0
 1.00  2.00     1     1     1     0     1      1
 2.00  0.00     1     1     0     0     0      0
 2.00  1.00     1     1     1     0     1      1
 2.00  2.00     1     1     1     1     0      0"""


def run(argv, capsys):
    """Run check_main in-process; return (exit status, stdout, stderr)."""
    status = run_main(check_main.main, argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def step_run(tmp_path_factory):
    """The step network with set weights, run once for several tests."""
    plot_dir = tmp_path_factory.mktemp("plots_step")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_main(check_main.main, ["--act", "step", "--hid", "4", "--set_weights", "--plot-dir", str(plot_dir)])
    return status, out.getvalue(), plot_dir


def test_data_file_is_the_3x3_parity_grid():
    with open(os.path.join(ROOT, "data", "check.csv"), encoding="utf-8") as handle:
        lines = handle.read().split()
    assert lines[0] == "x1,x2,target"
    assert lines[1:] == ["0,0,0", "0,1,1", "0,2,0", "1,0,1", "1,1,0", "1,2,1", "2,0,0", "2,1,1", "2,2,0"]
    x, y = load_data(os.path.join(ROOT, "data", "check.csv"))
    assert x.shape == (9, 2) and y.shape == (9, 1)
    assert torch.equal(y[:, 0], (x.sum(dim=1) % 2))


def test_step_network_with_set_weights_classifies_all_and_prints_the_exact_table(step_run):
    status, out, _ = step_run
    assert status == 0
    assert "Initial Weights:\nin_hid.weight:\n" in out
    assert "Initial Accuracy:  100.0\n" in out
    assert "ep:" not in out and "Final Weights:" not in out  # nothing to train
    assert STEP_TABLE in out
    for k, bias in enumerate(["0.50", "1.50", "2.50", "3.50"], start=1):
        assert f"H{k}: 1.00*x1 + 1.00*x2 - {bias} = 0" in out


def test_plots_are_valid_images_with_the_right_names(step_run):
    import matplotlib.image

    _, out, plot_dir = step_run
    names = sorted(os.listdir(plot_dir))
    assert names == sorted(["hid_4_0.jpg", "hid_4_1.jpg", "hid_4_2.jpg", "hid_4_3.jpg", "out_4.jpg", "check_net_4.jpg",
                            "check_step_4_set.json"])
    for name in [n for n in names if n.endswith(".jpg")]:
        with open(plot_dir / name, "rb") as handle:
            assert handle.read(3) == b"\xff\xd8\xff", name  # JPEG
        image = matplotlib.image.imread(plot_dir / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 10, f"{name} is blank"


def test_rescaled_sigmoid_network_classifies_all(capsys, tmp_path):
    threads = torch.get_num_threads()
    status, out, _ = run(["--act", "sig", "--hid", "4", "--set_weights", "--plot-dir", str(tmp_path)], capsys)
    assert status == 0
    assert torch.get_num_threads() == threads  # main leaves torch's settings as it found them
    assert "Initial Accuracy:  100.0\n" in out
    assert "tensor([ -5., -15., -25., -35.])" in out  # the design times 10
    assert "ep:" not in out
    assert "H4: 10.00*x1 + 10.00*x2 - 35.00 = 0" in out
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["hid_4_0.jpg", "hid_4_1.jpg", "hid_4_2.jpg", "hid_4_3.jpg", "out_4.jpg", "check_net_4.jpg",
         "check_sig_4_set.json"])


def test_the_issues_reference_design_also_works_and_its_lines_read_as_written():
    x, y = load_data(os.path.join(ROOT, "data", "check.csv"))
    net = check.MLP(4, "step")
    net.set_weights({"in_hid.weight": [[1, -1], [-1, 1], [1, -1], [-1, 1]], "in_hid.bias": [-0.5, -0.5, -1.5, -1.5],
                     "hid_out.weight": [[1, 1, -1, -1]], "hid_out.bias": [-0.5]})
    assert accuracy(net, x, y) == 100.0
    assert dividing_lines(net)[0] == "H1: 1.00*x1 - 1.00*x2 - 0.50 = 0"
    assert dividing_lines(net)[3] == "H4: -1.00*x1 + 1.00*x2 - 1.50 = 0"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_hid5_reaches_100_percent(seed, capsys, tmp_path):
    status, out, _ = run(["--act", "sig", "--hid", "5", "--seed", str(seed), "--epoch", "40000",
                          "--plot-dir", str(tmp_path)], capsys)
    assert status == 0
    assert re.search(r"^ep:  100 loss: \d\.\d{4} acc: \d\d\.\d\d$", out, re.M)
    assert "100% accuracy held for 2000 epochs" in out
    assert "Final Weights:" in out and out.count("Final Accuracy:  100.0\n") == 1
    assert sorted(os.listdir(tmp_path)) == sorted([f"hid_5_{k}.jpg" for k in range(5)] + ["out_5.jpg", "check_sig_5.json"])


def _settings(**changes):
    """The training settings check_main gives by default, but 3000 epochs, with ``changes``."""
    return Settings(**dict(dict(epoch=3000, lr=0.001, init=0.15, restarts=5, patience=20000), **changes))


def test_training_repeats_with_the_same_seed_and_stops_once_100_percent_held(capsys):
    x, y = load_data(os.path.join(ROOT, "data", "check.csv"))
    results = []
    for _ in range(2):
        seed_everything(5)
        net = check.MLP(5, "sig")
        net.init_weights(0.15)
        results.append((train(_settings(epoch=30000), net, x, y), net.in_hid.weight.clone()))
    assert results[0][0] == results[1][0] and torch.equal(results[0][1], results[1][1])
    epochs, restarts, reached = results[0][0]
    assert reached and restarts == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ep:")]
    held = [line for line in lines if line.endswith("acc: 100.00")]
    assert epochs < 30000 and len(held) >= 19  # 2000 epochs at 100% before the stop


def test_a_stuck_run_restarts_from_new_weights_and_says_so(capsys):
    x, y = load_data(os.path.join(ROOT, "data", "check.csv"))
    seed_everything(0)
    net = check.MLP(5, "sig")
    net.init_weights(0.15)
    first = net.in_hid.weight.clone()
    # a learning rate this small makes no progress at all
    epochs, restarts, reached = train(_settings(epoch=1000, lr=1e-9, restarts=2, patience=100), net, x, y)
    out = capsys.readouterr().out
    assert (epochs, restarts, reached) == (1000, 2, False)
    assert "restart 1 of at most 2" in out and "restart 2 of at most 2" in out and "restart 3" not in out
    assert not torch.allclose(net.in_hid.weight, first)


def test_fast_trainer_matches_torch_adam():
    x, y = load_data(os.path.join(ROOT, "data", "check.csv"))
    torch.manual_seed(3)
    reference = check.MLP(5, "sig")
    reference.init_weights(0.5)
    net = check.MLP(5, "sig")
    net.load_state_dict(reference.state_dict())
    reference = reference.double()
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01, weight_decay=1e-5)
    trainer = FullBatchAdam(net, x, y, lr=0.01, weight_decay=1e-5)
    for _ in range(300):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy(reference(x.double()), y.double())
        loss.backward()
        optimizer.step()
        trainer.step()
        assert trainer.loss() == pytest.approx(loss.item(), abs=1e-9)
    trainer.write_to(net)
    for mine, theirs in zip(net.parameters(), reference.parameters()):
        assert torch.allclose(mine.double(), theirs, atol=1e-6)


@pytest.mark.parametrize("content, message", [
    ("x,y,t\n0,0,0\n", "line 1: expected the header x1,x2,target, found 'x,y,t'"),
    ("", "line 1: expected the header x1,x2,target, found an empty file"),
    ("x1,x2,target\n0,0,0\n0,one,1\n", "line 3: x2 is 'one', not a number"),
    ("x1,x2,target\n0,0,0\n1,1,2\n", "line 3: target is '2'; it must be 0 or 1"),
    ("x1,x2,target\n0,0\n", "line 2: expected 3 cells (x1,x2,target), found 2"),
    ("x1,x2,target\n", "no data rows after the header"),
])
def test_bad_data_file_names_the_file_and_the_line(content, message, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    status, out, err = run(["--data", str(path), "--plot-dir", str(tmp_path / "plot")], capsys)
    assert status == 1
    assert err == f"error: {path}, {message}\n" if "line" in message else err == f"error: {path}: {message}\n"
    assert not (tmp_path / "plot").exists()


def test_blank_lines_are_skipped_and_inputs_up_to_the_limit_are_taken(tmp_path):
    path = tmp_path / "check.csv"
    path.write_text("x1,x2,target\n\n0,0,0\n1e6,-1e6,1\n\n")
    x, y = load_data(str(path))
    assert x.tolist() == [[0.0, 0.0], [1e6, -1e6]] and y.tolist() == [[0.0], [1.0]]


def test_missing_data_file_exits_with_a_message_and_no_traceback(tmp_path):
    missing = tmp_path / "nope.csv"
    done = run_script(["check_main.py", "--data", str(missing)], cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"error: {missing}: no such file\n"
    assert "Traceback" not in done.stdout + done.stderr


def test_bad_flag_choice_is_refused_by_argparse_without_a_traceback(tmp_path):
    done = run_script(["check_main.py", "--act", "relu"], cwd=tmp_path)
    assert done.returncode == 2
    assert "invalid choice: 'relu'" in done.stderr and "Traceback" not in done.stderr


def test_set_weights_with_another_hidden_size_names_the_shapes_expected(capsys, tmp_path):
    status, _, err = run(["--act", "step", "--hid", "5", "--set_weights", "--plot-dir", str(tmp_path)], capsys)
    assert status == 1
    assert "in_hid.weight has shape (4, 2), but --hid 5 needs (5, 2)" in err
    assert "hid_out.weight (1, 5)" in err


def test_entered_weights_with_a_wrong_shape_are_refused():
    design = check.entered_weights()
    design["hid_out.weight"] = [[1.0, -1.0, 1.0]]
    with pytest.raises(UserError, match=r"hid_out.weight has shape \(1, 3\), but --hid 4 needs \(1, 4\)"):
        check.MLP(4, "sig").set_weights(design)
    del design["hid_out.bias"]
    design["hid_out.weight"] = [[1.0, -1.0, 1.0, -1.0]]
    with pytest.raises(UserError, match=r"no hid_out.bias; expected shape \(1,\)"):
        check.MLP(4, "sig").set_weights(design)


@pytest.mark.parametrize("argv, message", [
    (["--act", "step"], "--act step cannot be trained"),
    (["--plot-dir", "a_file"], "--plot-dir a_file is a file, not a folder"),
])
def test_other_bad_requests_get_a_message(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    status, _, err = run(argv, capsys)
    assert status == 1 and message in err


@pytest.mark.parametrize("argv", [["--hid", "0"], ["--lr", "-1"], ["--epoch", "x"], ["--init", "nan"]])
def test_bad_numbers_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        check_main.main(argv)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_the_flags_give_the_documented_settings_once():
    settings = check_main.parse_args([])
    assert settings == Settings()  # the flags' defaults are the settings' own
    # --help's defaults
    assert (settings.hid, settings.act, settings.init, settings.lr, settings.epoch, settings.seed, settings.restarts,
            settings.patience, settings.plot_dir) == (4, "sig", 0.15, 0.001, 200000, 0, 5, 20000, "plot")
    assert settings.data == os.path.join(ROOT, "data", "check.csv")
    assert settings.run_name == "check_sig_4"
    assert check_main.parse_args(["--act", "step", "--set_weights"]).run_name == "check_step_4_set"
    assert list(settings.as_config()) == ["hid", "act", "init", "set_weights", "lr", "epoch", "seed", "restarts",
                                          "patience", "plot_dir", "data"]  # the record's names, as before


def test_the_training_stops_only_after_100_percent_held_for_hold_epochs_in_a_row(monkeypatch):
    """A stand-in optimiser right at every epoch but the 1,501st: the run stops at 1,501 + HOLD_EPOCHS, not at
    HOLD_EPOCHS + 1, since a miss starts the count again."""
    from types import SimpleNamespace

    import numpy as np

    from lab.check import training

    class Scripted:
        epoch = 0

        def __init__(self, *args, **kwargs):
            self.theta = np.zeros(3)

        def step(self):
            Scripted.epoch += 1
            return Scripted.epoch != 1501

        def loss(self):
            return 0.01

        def accuracy(self):
            return 100.0

        def write_to(self, net):
            pass

    monkeypatch.setattr(training, "FullBatchAdam", Scripted)
    settings = SimpleNamespace(epoch=10_000, lr=0.01, init=0.1, restarts=0, patience=1000)
    epochs, used, held = training.train(settings, None, None, None, log=lambda line: None)
    assert (epochs, used, held) == (1501 + training.HOLD_EPOCHS, 0, True)
