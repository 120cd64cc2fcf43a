"""kuzu_main.py --resume: an interrupted run goes on to the same network as an uninterrupted one (run in-process;
tests/test_signals.py sends real signals to the commands)."""
import pytest
import torch

import kuzu_main
from conftest import run_command


def run_kuzu(*argv, on_line=None):
    """kuzu_main.py in-process; returns (status, stdout, stderr)."""
    return run_command(kuzu_main.main, list(argv), on_line)


def stop_at_epoch_2(line):
    """Ctrl-C as soon as epoch 1 is tested (and saved)."""
    if line.startswith("Train Epoch: 2"):
        raise KeyboardInterrupt


def test_ctrl_c_then_resume_gives_the_same_network(synthetic_kmnist, tmp_path):
    """Three epochs in one go against one epoch, an interruption, and --resume: the same weights and lines."""
    root, _ = synthetic_kmnist
    flags = ["--net", "conv", "--conv1", "4", "--conv2", "8", "--fc", "16", "--epochs", "3", "--data", root,
             "--plot-dir", str(tmp_path / "plot")]
    status, whole, err = run_kuzu(*flags, "--save", str(tmp_path / "whole.pth"))
    assert status == 0, err
    status, _, err = run_kuzu(*flags, "--save", str(tmp_path / "part.pth"), on_line=stop_at_epoch_2)
    assert status == 130 and err == "interrupted\n"
    assert torch.load(tmp_path / "part.pth", weights_only=True)["epoch"] == 1
    status, again, err = run_kuzu(*flags, "--save", str(tmp_path / "part.pth"), "--resume")
    assert status == 0, err
    assert "resuming from" in again and again.count("Test set:") == 2
    tail = lambda out: out[out.index("Test accuracy"):out.index("Saved")]
    assert tail(again) == tail(whole)
    a = torch.load(tmp_path / "whole.pth", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "part.pth", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_needs_save_and_the_same_settings(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    with pytest.raises(SystemExit) as refused:  # argparse's refusal
        run_kuzu("--net", "lin", "--resume")
    assert refused.value.code == 2
    flags = ["--net", "lin", "--epochs", "2", "--data", root, "--plot-dir", str(tmp_path), "--save",
             str(tmp_path / "a.pth")]
    assert run_kuzu(*flags)[0] == 0
    status, _, err = run_kuzu(*flags, "--resume")
    assert status == 1 and "finished all 2 epochs already" in err
    status, _, err = run_kuzu(*flags[:3], "3", *flags[4:], "--lr", "0.05", "--resume")
    assert status == 1 and "other settings: lr 0.01 (now 0.05), epochs 2 (now 3)" in err
