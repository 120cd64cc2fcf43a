"""kuzu_main.py end to end on synthetic KMNIST, and NetLin on the real data when present."""
import os
import re

import pytest
import torch
from PIL import Image

from conftest import run_script
from kuzu import load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_kuzu(*flags, env_data=None, device="cpu"):
    """Run kuzu_main.py (in-process) on the CPU, where its numbers repeat exactly, unless ``device`` says otherwise."""
    if device:
        flags = (*flags, "--device", device)
    return run_script(["kuzu_main.py", *flags], env={"KMNIST_DATA": env_data})


def test_one_epoch_prints_the_course_format_and_writes_plots(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    plots = tmp_path / "plots"
    result = run_kuzu("--net", "lin", "--epochs", "1", "--batch-size", "4", "--data", root,
                      "--no-download", "--plot-dir", str(plots))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "lr=0.01 mom=0.5" in out
    assert "out: 784*10+10 = 7,850" in out
    assert re.search(r"^Train Epoch: 1 \[0/640 \(0%\)\]\tLoss: \d+\.\d{6}$", out, re.M)
    assert re.search(r"^Train Epoch: 1 \[400/640 \(62%\)\]\tLoss: \d+\.\d{6}$", out, re.M)
    matrix = re.search(r"^\[\[(.*?)\]\]$", out, re.M | re.S).group(0)
    rows = [[float(v) for v in row.strip(" []").split()] for row in matrix.splitlines()]
    assert len(rows) == 10 and all(len(row) == 10 for row in rows) and sum(map(sum, rows)) == 200
    test_line = re.search(r"^Test set: Average loss: \d+\.\d{4}, Accuracy: (\d+)/200 \((\d+)%\)$", out, re.M)
    correct = int(test_line.group(1))
    assert correct == sum(rows[i][i] for i in range(10))
    assert re.search(r"^Most confused \(true -> chosen\): \w+ -> \w+: \d+, \w+ -> \w+: \d+, \w+ -> \w+: \d+$", out, re.M)
    assert "Parameters: 7,850" in out and re.search(r"^Wall time: [\d.]+ s$", out, re.M)
    for name in ("kuzu_lin_confusion.jpg", "kuzu_lin_samples.jpg"):
        with Image.open(plots / name) as image:
            assert image.format == "JPEG" and image.size[0] > 300
    assert correct > 100  # the synthetic classes are easy: one epoch learns them


def test_same_command_gives_the_same_numbers(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    flags = ("--net", "full", "--hid", "20", "--epochs", "1", "--batch-size", "8", "--data", root,
             "--plot-dir", str(tmp_path), "--seed", "5")
    first, second = run_kuzu(*flags), run_kuzu(*flags)
    strip = lambda text: re.sub(r"Wall time: .*", "", text)
    assert first.returncode == 0 and strip(first.stdout) == strip(second.stdout)
    assert "lr=0.02 mom=0.9" in first.stdout


def test_conv_saves_a_checkpoint_that_rebuilds_the_model(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    checkpoint = tmp_path / "net" / "conv.pth"
    result = run_kuzu("--net", "conv", "--conv1", "4", "--conv2", "8", "--fc", "16", "--epochs", "2",
                      "--data", root, "--plot-dir", str(tmp_path), "--save", str(checkpoint))
    assert result.returncode == 0, result.stderr
    assert "lr=0.08 mom=0.9" in result.stdout and "shift=2 schedule=onecycle" in result.stdout and " nesterov" in result.stdout
    assert "smoothing=0.1 tta=5" in result.stdout
    model, saved = load_checkpoint(str(checkpoint))
    assert saved["epoch"] == 2 and saved["model"] == {"net": "conv", "conv1": 4, "conv2": 8, "fc": 16, "dropout": 0.2}
    accuracy = int(re.findall(r"Accuracy: (\d+)/200", result.stdout)[-1])
    assert round(saved["accuracy"] * 200) == accuracy
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert sorted(os.listdir(checkpoint.parent)) == ["conv.pth"]  # no temporary files left
    assert saved["format"] == "nn-lab checkpoint 1" and saved["kind"] == "kuzu"


def test_unknown_net_is_an_argparse_error():
    result = run_kuzu("--net", "cnn")
    assert result.returncode == 2
    assert "invalid choice: 'cnn'" in result.stderr and "Traceback" not in result.stderr


def test_bad_numbers_are_refused():
    result = run_kuzu("--lr", "-1")
    assert result.returncode == 2 and "argument --lr: must be above 0, got -1" in result.stderr
    result = run_kuzu("--mom", "1.5")
    assert result.returncode == 2 and "argument --mom: must be below 1, got 1.5" in result.stderr


def test_each_net_gets_its_documented_defaults_once_and_given_flags_win():
    import dataclasses

    import kuzu_main
    from lab.characters.settings import Settings

    # --help's defaults: lr 0.01 (full 0.02, conv 0.08), mom 0.5 (full and conv 0.9), shift 0 (conv 2),
    # schedule cosine (conv onecycle), Nesterov on for conv only; smoothing 0 (conv 0.1), tta 1 (conv 5),
    # no weight averaging, cutout or weight decay
    documented = {"lin": (0.01, 0.5, 0, "cosine", False, 0, 1), "full": (0.02, 0.9, 0, "cosine", False, 0, 1),
                  "conv": (0.08, 0.9, 2, "onecycle", True, 0.1, 5)}
    for net, values in documented.items():
        settings = kuzu_main.parse_args(["--net", net])
        assert (settings.lr, settings.mom, settings.shift, settings.schedule, settings.nesterov, settings.smoothing,
                settings.tta) == values
        assert (settings.ema, settings.erase, settings.wd, settings.threads) == (0, 0, 0, None)
        assert settings == Settings(net=net)  # the flags' defaults are the settings' own
        given = kuzu_main.parse_args(["--net", net, "--lr", "0.3", "--shift", "1", "--no-nesterov"])
        assert (given.lr, given.shift, given.nesterov) == (0.3, 1, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.lr = 1.0
    assert list(settings.as_config())[:3] == ["net", "lr", "mom"] and settings.as_config()["batch_size"] == 64


def test_missing_data_gives_one_clear_paragraph_and_no_traceback(tmp_path):
    result = run_kuzu("--data", str(tmp_path / "empty"), "--no-download", "--plot-dir", str(tmp_path))
    assert result.returncode == 1
    assert "KMNIST not found: looked in" in result.stderr and "train-images-idx3-ubyte" in result.stderr
    assert "Traceback" not in result.stderr


def test_cuda_request_without_cuda_is_a_clear_error(synthetic_kmnist, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so --device cuda is not an error here")
    root, _ = synthetic_kmnist
    result = run_kuzu("--data", root, "--plot-dir", str(tmp_path), device="cuda")
    assert result.returncode == 1 and "--device cuda asked for" in result.stderr


def test_unwritable_outputs_fail_before_training(synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_kuzu("--net", "lin", "--data", root, "--plot-dir", str(blocker / "plots"))
    assert result.returncode == 1 and "cannot create the folder" in result.stderr
    assert "Train Epoch" not in result.stdout and "Traceback" not in result.stderr
    result = run_kuzu("--net", "lin", "--data", root, "--plot-dir", str(tmp_path), "--save", str(tmp_path))
    assert result.returncode == 1 and "is a folder" in result.stderr


def test_netlin_one_epoch_on_real_kmnist_reaches_65_percent(real_kmnist_root, tmp_path):
    result = run_kuzu("--net", "lin", "--epochs", "1", "--plot-dir", str(tmp_path), env_data=real_kmnist_root)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)%", result.stdout).group(1))
    assert accuracy >= 65.0
    assert "Accuracy: " in result.stdout and "/10000 (" in result.stdout


def test_full_saves_its_hidden_size_and_tests_on_unshifted_images(synthetic_kmnist, tmp_path):
    import json

    import torch.nn.functional as F

    from lab.characters import kmnist

    root, _ = synthetic_kmnist
    checkpoint = tmp_path / "full.pth"
    plots = tmp_path / "plots"
    result = run_kuzu("--net", "full", "--hid", "37", "--shift", "2", "--epochs", "1", "--data", root,
                      "--no-download", "--plot-dir", str(plots), "--save", str(checkpoint))
    assert result.returncode == 0, result.stderr
    model, saved = load_checkpoint(str(checkpoint))
    assert model.hid.out_features == 37 and saved["config"] == {"net": "full", "hid": 37}
    assert "hid: 784*37+37 = 29,045" in result.stdout
    # the test pass scores the test images as they are: --shift moves training images only
    images, labels = kmnist.load_split(root, "test", download=False)
    with torch.no_grad():
        output = model.eval()(images)
    loss = F.nll_loss(output, labels).item()
    correct = int((output.argmax(dim=1) == labels).sum())
    with open(plots / "kuzu_full.json", encoding="utf-8") as handle:
        last = json.load(handle)["results"]["epochs"][-1]
    assert last["test_loss"] == pytest.approx(loss, rel=1e-5)
    assert last["correct"] == correct
    assert f"Accuracy: {correct}/200" in result.stdout

