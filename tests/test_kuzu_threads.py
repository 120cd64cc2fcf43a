"""kuzu_main.py's --threads and its compiled (GPU) path's fallback, run in-process on synthetic KMNIST."""
import json

import pytest
import torch

import kuzu_main
from lab.characters import training as kuzu_train


def run(argv, synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    return kuzu_main.main([*argv, "--epochs", "1", "--data", root, "--plot-dir", str(tmp_path / "plot")])


@pytest.mark.parametrize("argv, expected", [(["--net", "lin", "--threads", "2"], 2),
                                            (["--net", "full", "--threads", "1"], 1),
                                            (["--net", "conv", "--conv1", "2", "--conv2", "2", "--fc", "4",
                                              "--threads", "3"], 3)])
def test_training_runs_with_the_threads_asked_for_and_restores_them(argv, expected, synthetic_kmnist, tmp_path,
                                                                     monkeypatch, capsys):
    seen, real = [], kuzu_train.train_epoch

    def spy(*args, **kwargs):
        chooser = args[-1]
        seen.append((torch.get_num_threads(), chooser.counts))
        loss = real(*args, **kwargs)
        seen.append(torch.get_num_threads())
        return loss

    monkeypatch.setattr(kuzu_main, "train_epoch", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(5)
    try:
        assert run(argv, synthetic_kmnist, tmp_path) == 0
        assert seen == [(expected, [expected]), expected] and torch.get_num_threads() == 5
    finally:
        torch.set_num_threads(before)
    assert f"threads={expected}" in capsys.readouterr().out


@pytest.mark.parametrize("net", ["lin", "full", "conv"])
def test_by_default_every_net_chooses_among_one_two_and_every_core(net, synthetic_kmnist, tmp_path, monkeypatch,
                                                                   capsys):
    seen, real = [], kuzu_train.train_epoch
    monkeypatch.setattr(kuzu_main, "train_epoch", lambda *a, **k: seen.append(list(a[-1].counts)) or real(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(4)  # what torch would use on a 4-core machine
    try:
        sizes = ["--conv1", "2", "--conv2", "2", "--fc", "4"] if net == "conv" else []
        assert run(["--net", net, *sizes], synthetic_kmnist, tmp_path) == 0
        assert torch.get_num_threads() == 4  # restored after the run, whatever was chosen
    finally:
        torch.set_num_threads(before)
    assert seen == [[1, 2, 4]]
    out = capsys.readouterr().out
    assert "threads=auto" in out
    record = json.loads((tmp_path / "plot" / f"kuzu_{net}.json").read_text())
    row = record["results"]["epochs"][0]
    batches = -(-len(synthetic_kmnist[1][1]) // 64)  # the training images in batches of 64
    assert row["threads"] in (1, 2, 4) and sum(row["thread_steps"].values()) == batches
    assert record["machine"]["threads"] == row["threads"]


def test_a_failing_compile_falls_back_to_the_plain_model(synthetic_kmnist, tmp_path, monkeypatch, capsys):
    def broken(model, mode=None):
        raise RuntimeError("Dynamo is not supported on this platform")

    monkeypatch.setattr(torch, "compile", broken)
    assert run(["--net", "lin", "--compile", "on"], synthetic_kmnist, tmp_path) == 0
    out = capsys.readouterr().out
    assert "torch.compile is not available here (Dynamo is not supported on this platform)" in out
    assert "Test accuracy:" in out


def test_a_compiled_model_is_used_for_training_and_the_plain_one_saved(synthetic_kmnist, tmp_path, monkeypatch):
    calls = []

    class Spy(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            calls.append(x.shape[0])
            return self.inner(x)

    monkeypatch.setattr(torch, "compile", lambda model, mode=None: calls.append(mode) or Spy(model))
    save = tmp_path / "lin.pth"
    assert run(["--net", "lin", "--compile", "on", "--save", str(save)], synthetic_kmnist, tmp_path) == 0
    assert calls[0] == "reduce-overhead" and calls[1] == 2 and len(calls) > 10  # trial batch, then training
    saved = torch.load(save, weights_only=True)
    assert set(saved["state_dict"]) == {"out.weight", "out.bias"}  # the plain model's names, no wrapper


def test_auto_compiles_only_on_cuda(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("compiled on the CPU"))
    model = torch.nn.Linear(784, 10)
    assert kuzu_train.prepare(model, "lin", torch.device("cpu"), "auto") is model
