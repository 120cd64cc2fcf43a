"""kuzu_main.py --resume: an interrupted run goes on to the same network as an uninterrupted one."""
import os
import signal
import subprocess
import sys

import torch

from conftest import default_signals

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# One thread, so that the automatic thread choice (which may change the order of sums) cannot make two runs differ.
ONE_THREAD = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")


def run_kuzu(*argv):
    return subprocess.run([sys.executable, "kuzu_main.py", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=ONE_THREAD)


def test_ctrl_c_then_resume_gives_the_same_network(synthetic_kmnist, tmp_path):
    """Two epochs in one go against one epoch, an interruption, and --resume: the same weights and lines."""
    root, _ = synthetic_kmnist
    flags = ["--net", "conv", "--conv1", "4", "--conv2", "8", "--fc", "16", "--epochs", "3", "--data", root,
             "--plot-dir", str(tmp_path / "plot")]
    whole = run_kuzu(*flags, "--save", str(tmp_path / "whole.pth"))
    assert whole.returncode == 0, whole.stderr
    proc = subprocess.Popen([sys.executable, "kuzu_main.py", *flags, "--save", str(tmp_path / "part.pth")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD,
                            preexec_fn=default_signals)
    for line in proc.stdout:  # interrupt as soon as epoch 1 is tested (and saved)
        if line.startswith("Train Epoch: 2"):
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert torch.load(tmp_path / "part.pth", weights_only=True)["epoch"] == 1
    again = run_kuzu(*flags, "--save", str(tmp_path / "part.pth"), "--resume")
    assert again.returncode == 0, again.stderr
    assert "resuming from" in again.stdout and again.stdout.count("Test set:") == 2
    tail = lambda out: out[out.index("Test accuracy"):out.index("Saved")]
    assert tail(again.stdout) == tail(whole.stdout)
    a = torch.load(tmp_path / "whole.pth", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "part.pth", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_needs_save_and_the_same_settings(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    assert run_kuzu("--net", "lin", "--resume").returncode == 2
    flags = ["--net", "lin", "--epochs", "2", "--data", root, "--plot-dir", str(tmp_path), "--save",
             str(tmp_path / "a.pth")]
    assert run_kuzu(*flags).returncode == 0
    done = run_kuzu(*flags, "--resume")
    assert done.returncode == 1 and "finished all 2 epochs already" in done.stderr
    done = run_kuzu(*flags[:3], "3", *flags[4:], "--lr", "0.05", "--resume")
    assert done.returncode == 1 and "other settings: lr 0.01 (now 0.05), epochs 2 (now 3)" in done.stderr
