"""kuzu_main.py's --threads and its compiled (GPU) path's fallback, run in-process on synthetic KMNIST."""
import pytest
import torch

import kuzu_main
from lab.characters import training as kuzu_train


def run(argv, synthetic_kmnist, tmp_path):
    root, _ = synthetic_kmnist
    return kuzu_main.main([*argv, "--epochs", "1", "--data", root, "--plot-dir", str(tmp_path / "plot")])


@pytest.mark.parametrize("argv, expected", [(["--net", "lin"], 1), (["--net", "full"], 1),
                                            (["--net", "lin", "--threads", "2"], 2),
                                            (["--net", "conv", "--conv1", "2", "--conv2", "2", "--fc", "4",
                                              "--threads", "3"], 3)])
def test_training_runs_with_the_threads_asked_for_and_restores_them(argv, expected, synthetic_kmnist, tmp_path,
                                                                     monkeypatch, capsys):
    seen, real = [], kuzu_train.train_epoch
    monkeypatch.setattr(kuzu_main, "train_epoch", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(5)
    try:
        assert run(argv, synthetic_kmnist, tmp_path) == 0
        assert seen == [expected] and torch.get_num_threads() == 5
    finally:
        torch.set_num_threads(before)
    assert f"threads={expected}" in capsys.readouterr().out


def test_conv_defaults_to_every_core(synthetic_kmnist, tmp_path, monkeypatch):
    seen, real = [], kuzu_train.train_epoch
    monkeypatch.setattr(kuzu_main, "train_epoch", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)  # what torch would use on a 4-core machine
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    args = kuzu_main.parse_args(["--net", "conv"])
    assert args.threads == 4 and kuzu_main.parse_args(["--net", "full"]).threads == 1


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
