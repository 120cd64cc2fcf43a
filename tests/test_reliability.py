"""Failures as sentences: write faults, diverged training, useless data, numbers at the edges, incomplete
checkpoints, littering, and two runs writing the same files. Every case: a clear message, a non-zero exit,
no traceback, and nothing written earlier damaged.
"""
import os
import subprocess

import numpy as np
import pytest
import torch

import check
import check_main
from lab.characters import kmnist
from lab.check.adam import FullBatchAdam
from lab.check.data import load_data as load_check_data
from lab.check.settings import Settings as CheckSettings
from lab.check.training import train as train_check
import kuzu_main
from lab.common.figures import pyplot, save_figure
from lab.common.files import atomic_torch_save
import seq_plot
import seq_train
from lab.common.checkpoints import CheckpointError, save_checkpoint
from conftest import make_kmnist, run_script as run_in_process, write_idx
from kuzu import build_model as build_kuzu, load_checkpoint as load_kuzu, model_settings, save_kuzu_checkpoint
from lab.common.errors import UserError, run_main
from seq_models import build_model, save_checkpoint as save_seq
from lab.recurrent.settings import TrainSettings
from lab.recurrent.training import Diverged, best_candidate, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEQ_CONFIG = dict(model="srn", num_input=2, num_hid=2, num_out=2, lang="anb2n", embed=False, length=4)


def run_script(*argv, timeout=None):
    """A command of the lab, in-process (conftest.run_script)."""
    return run_in_process(argv)


def good_lin_checkpoint(path):
    torch.manual_seed(0)
    model = build_kuzu("lin")
    save_kuzu_checkpoint(str(path), model, model_settings("lin"), epoch=3, accuracy=0.7)
    return path.read_bytes()


# --- one write path -------------------------------------------------------------------------------------------

def test_a_runtime_error_while_writing_is_a_message_and_the_old_file_stays(tmp_path, monkeypatch):
    path = tmp_path / "net.pth"
    before = good_lin_checkpoint(path)

    def broken_save(obj, target):
        with open(target, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(UserError, match=f"cannot write {path}: .*PytorchStreamWriter failed"):
        atomic_torch_save({"x": 1}, str(path))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["net.pth"]


def test_a_figure_that_fails_to_save_is_a_message(tmp_path):
    plt = pyplot()
    fig, _ = plt.subplots()
    fig.savefig = lambda *a, **k: (_ for _ in ()).throw(ValueError("Axis limits cannot be NaN or Inf"))
    with pytest.raises(UserError, match="cannot write .*a.jpg: Axis limits cannot be NaN or Inf"):
        save_figure(fig, str(tmp_path / "a.jpg"))
    assert os.listdir(tmp_path) == []


@pytest.fixture
def full_disk(tmp_path):
    """A 160 KiB tmpfs at tmp_path/disk (root only), or a skip saying why."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): " + done.stderr.decode().strip())
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_a_real_full_disk_keeps_the_old_checkpoint(full_disk, synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    path = full_disk / "lin.pth"
    before = good_lin_checkpoint(path)
    fd = os.open(full_disk / "filler", os.O_CREAT | os.O_WRONLY)
    try:  # fill the disk but for 8 KiB: room for the lock file, not for a new checkpoint
        while os.statvfs(full_disk).f_bavail * os.statvfs(full_disk).f_frsize > 8192:
            os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    done = run_script("kuzu_main.py", "--net", "lin", "--epochs", "1", "--data", root, "--plot-dir",
                      str(tmp_path / "plot"), "--save", str(path))
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: cannot write {path}: ") and "Traceback" not in done.stderr
    assert path.read_bytes() == before
    assert sorted(os.listdir(full_disk)) == ["filler", "lin.pth"]  # no temporary file, no lock left


# --- divergence -------------------------------------------------------------------------------------------------

def test_kuzu_divergence_stops_the_run_and_keeps_the_good_checkpoint(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    path = tmp_path / "lin.pth"
    before = good_lin_checkpoint(path)
    done = run_script("kuzu_main.py", "--net", "lin", "--lr", "3e38", "--epochs", "2", "--data", root,
                      "--plot-dir", str(tmp_path / "plot"), "--save", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "the training diverged in epoch 1" in done.stderr and "smaller --lr" in done.stderr
    assert path.read_bytes() == before
    assert "Test accuracy" not in done.stdout


def test_non_finite_weights_are_never_saved(tmp_path):
    model = build_kuzu("lin")
    with torch.no_grad():
        model.out.weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="not finite"):
        save_checkpoint(str(tmp_path / "a.pth"), "kuzu", {"net": "lin"}, model)
    assert not os.listdir(tmp_path)


def test_the_candidate_choice_ignores_non_finite_losses():
    assert best_candidate(torch.tensor([0.5, float("nan"), 0.1])) == 2
    assert best_candidate(torch.tensor([float("inf"), 0.3, float("nan")])) == 1
    with pytest.raises(Diverged, match="every network's loss is NaN or infinite"):
        best_candidate(torch.tensor([float("nan"), float("inf")]))


def test_a_loss_that_becomes_nan_stops_seq_training(tmp_path):
    """Fault injection: a network whose output bias is NaN; the first report must stop the run."""
    from lab.recurrent.languages import make_language

    model = build_model(SEQ_CONFIG)
    with torch.no_grad():
        model.out.bias[0] = float("nan")
    settings = TrainSettings(lang="anb2n", hid=2, lr=0.01, epoch=2, candidates=1, out_path=str(tmp_path))
    with pytest.raises(Diverged, match="diverged after 1000 sequences"):
        train(settings, model, make_language("anb2n"), log=lambda *a: 0)
    assert not os.listdir(tmp_path)  # no checkpoint of a diverged network


def test_check_weights_gone_to_infinity_are_a_divergence(monkeypatch):
    """Fault injection: a weight becomes infinite at epoch 50; the next loss line must not be printed."""
    x, y = load_check_data(os.path.join(ROOT, "data", "check.csv"))
    torch.manual_seed(0)
    net = check.MLP(5, "sig")
    net.init_weights(0.15)
    step = FullBatchAdam.step

    def faulty(self):
        held = step(self)
        if self.steps == 50:
            self.theta[0] = np.inf
        return held

    monkeypatch.setattr(FullBatchAdam, "step", faulty)
    lines = []
    with pytest.raises(Diverged, match="diverged at epoch 100.*smaller --lr"), np.errstate(all="ignore"):
        train_check(CheckSettings(epoch=3000), net, x, y, log=lines.append)
    assert lines == []


# --- data that is well-formed but useless ----------------------------------------------------------------------

@pytest.mark.parametrize("split, name", [("train", "train-images-idx3-ubyte.gz"), ("test", "t10k-images-idx3-ubyte")])
def test_an_empty_split_is_refused_naming_the_file(tmp_path, split, name):
    root = str(tmp_path)
    make_kmnist(root)
    folder = kmnist.raw_dir(root)
    labels = name.replace("images-idx3", "labels-idx1")
    write_idx(os.path.join(folder, name), np.zeros((0, 28, 28), np.uint8), 2051)
    write_idx(os.path.join(folder, labels), np.zeros((0,), np.uint8), 2049)
    with pytest.raises(kmnist.DataError, match=f"{name} holds no images"):
        kmnist.load_split(root, split, download=False)


@pytest.mark.parametrize("value", ["1e300", "-2e6", "nan", "inf"])
def test_absurd_check_values_are_refused_with_the_line(tmp_path, value):
    path = tmp_path / "check.csv"
    path.write_text(f"x1,x2,target\n0,0,0\n{value},1,1\n")
    with pytest.raises(UserError, match=f"{path}, line 3: x1 is"):
        load_check_data(str(path))


# --- numbers at the edges ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("script", ["kuzu_main.py", "check_main.py", "seq_train.py", "seq_plot.py", "seq_fsm.py",
                                    "report.py"])
@pytest.mark.parametrize("seed, message", [("-1", "must be at least 0"),
                                           ("99999999999999999999", "must be at most 4294967295")])
def test_every_command_takes_the_same_seed_range(script, seed, message, tmp_path, capsys):
    module = __import__(script[:-3])
    folder_flags = {"kuzu_main.py": ["--plot-dir"], "check_main.py": ["--plot-dir"], "report.py": ["--out"]}.get(
        script, ["--out_path"])
    with pytest.raises(SystemExit) as exit_:
        module.main(["--seed", seed, *folder_flags, str(tmp_path / "out")])
    assert exit_.value.code == 2 and f"argument --seed: {message}" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("module, argv", [(kuzu_main, ["--lr", "1e40"]), (seq_train, ["--lr", "1e40"]),
                                          (check_main, ["--lr", "1e39"])])
def test_learning_rates_beyond_float32_are_refused(module, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        module.main(argv)
    assert exit_.value.code == 2 and "is not a finite number" in capsys.readouterr().err


# --- incomplete checkpoints -----------------------------------------------------------------------------------

def test_a_checkpoint_without_its_language_is_named(tmp_path, capsys):
    path = tmp_path / "anb2n_srn2_1.pth"
    save_seq(str(path), build_model(SEQ_CONFIG), {k: v for k, v in SEQ_CONFIG.items() if k != "lang"})
    status = run_main(seq_plot.main, ["--checkpoint", str(path), "--plot_path", str(tmp_path / "plot")])
    err = capsys.readouterr().err
    assert status == 1 and "missing the setting(s) lang in its config" in err
    assert not (tmp_path / "plot").exists()


def test_a_kuzu_checkpoint_without_its_size_is_named(tmp_path):
    path = tmp_path / "full.pth"
    save_checkpoint(str(path), "kuzu", {"net": "full"}, build_kuzu("full", hid=7))
    with pytest.raises(CheckpointError, match="missing the setting\\(s\\) hid"):
        load_kuzu(str(path))


# --- littering and two runs at once ----------------------------------------------------------------------------

def test_a_failed_download_leaves_no_folders(tmp_path):
    wrong = tmp_path / "wrong_folder"
    done = run_script("kuzu_main.py", "--net", "lin", "--data", str(wrong), "--plot-dir", str(tmp_path / "plot"))
    assert done.returncode == 1 and "KMNIST not found" in done.stderr and "Traceback" not in done.stderr
    assert not wrong.exists() and not (tmp_path / "plot").exists()


def test_running_out_of_memory_is_a_sentence(capsys):
    def greedy(argv):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 99999999999 bytes")

    assert run_main(greedy) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: not enough memory for this run") and "Traceback" not in err


@pytest.mark.parametrize("module, argv, message", [
    (seq_train, ["--hid", "100000"], "argument --hid: must be at most 1024"),
    (seq_train, ["--candidates", "1000"], "argument --candidates: must be at most 64"),
    (kuzu_main, ["--conv1", "100000"], "argument --conv1: must be at most 4096"),
    (kuzu_main, ["--batch-size", "1000000"], "argument --batch-size: must be at most 60000"),
])
def test_sizes_that_cannot_fit_are_refused_first(module, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        module.main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
