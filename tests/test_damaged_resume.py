"""Damaged --resume checkpoints, refused by seq_train.py --resume and kuzu_main.py --resume.

A real run writes the checkpoint (seq_train.py for 1000 sequences,
kuzu_main.py for one epoch on a small synthetic KMNIST), once per module;
each test copies it, damages it in one way and runs --resume on it:
exit status 1, one sentence naming the file and the place in it, no
traceback, and every file of the run left byte-for-byte as it was. A saved
state that does not fit the network is refused too (the commands load it
through lab.common.checkpoints.load_weights and load_optimizer).
"""
import os
import shutil

import pytest

import kuzu_main
import seq_train
from conftest import make_kmnist
from damage import damage, snapshot
from lab.common.errors import run_main

SEQ_FLAGS = ["--lang", "anbn", "--candidates", "1"]


def seq_flags(folder, epoch):
    return [*SEQ_FLAGS, "--epoch", str(epoch), "--out_path", str(folder / "net"), "--plot_path", str(folder / "plot")]


@pytest.fixture(scope="module")
def seq_run(tmp_path_factory):
    """A folder holding net/ and plot/ of `seq_train.py --lang anbn --epoch 1 --candidates 1`."""
    folder = tmp_path_factory.mktemp("seq_run")
    assert run_main(seq_train.main, seq_flags(folder, 1)) == 0
    return folder


@pytest.fixture
def seq_copy(seq_run, tmp_path):
    """A copy of seq_run's folder for one test to damage; returns (folder, the checkpoint's path)."""
    folder = tmp_path / "run"
    shutil.copytree(seq_run, folder)
    return folder, str(folder / "net" / "anbn_srn2_1.pth")


def refused(main, argv, folder, capsys):
    """Run ``main(argv)``; check it refused in one line and changed nothing in ``folder``; returns the message."""
    before = snapshot(folder)
    status = run_main(main, argv)
    err = capsys.readouterr().err
    assert status == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert snapshot(folder) == before
    return err


def nan_in(name, key):
    def change(data):
        weights = data["resume"][key] if name == "resume" else data[key]
        first = next(iter(weights))
        weights[first].view(-1)[0] = float("nan")
    return change


SEQ_DAMAGE = {  # how -> (the change, what the message says after the file's name)
    "no settings": (lambda d: d["resume"].pop("settings"), "resume.settings is missing"),
    "an empty optimiser state": (lambda d: d["resume"].update(optimizer={}), "resume.optimizer.state is missing"),
    "no parameter groups": (lambda d: d["resume"]["optimizer"].update(param_groups=[]),
                            "resume.optimizer.param_groups has 0 items, expected at least 1"),
    "a garbage generator state": (lambda d: d["resume"].update(rng="\x00garbage"),
                                  "resume.rng is '\\x00garbage', expected a dict"),
    "a generator of another kind": (lambda d: d["resume"]["rng"].update(bit_generator="MT19937"),
                                    "resume.rng.bit_generator is 'MT19937', expected one of PCG64"),
    "a generator state out of range": (lambda d: d["resume"]["rng"]["state"].update(state=-1),
                                       "resume.rng.state.state is -1, expected a whole number from 0 to "),
    "sequences seen as text": (lambda d: d["resume"]["progress"].update(seen="10k"),
                               "resume.progress.seen is '10k', expected a whole number"),
    "a report's loss as text": (lambda d: d["resume"]["progress"].update(reports=[(1, "low")]),
                                "resume.progress.reports[0][1] is 'low', expected a finite number"),
    "a candidate that does not exist": (lambda d: d["resume"]["progress"].update(chosen=3),
                                        "resume.progress.chosen is 3, expected a candidate below 1"),
    "NaN in the saved network": (nan_in("resume", "model"), "holds NaN"),
    "NaN in the checkpoint's weights": (nan_in("top", "state_dict"), "holds NaN"),
}


@pytest.mark.parametrize("how", SEQ_DAMAGE)
def test_seq_train_refuses_a_damaged_resume_state(how, seq_copy, capsys):
    folder, path = seq_copy
    change, message = SEQ_DAMAGE[how]
    damage(path, change)
    err = refused(seq_train.main, [*seq_flags(folder, 2), "--resume"], folder, capsys)
    assert f"{path}: " in err and message in err


def test_seq_train_resumes_from_the_undamaged_copy(seq_copy, capsys):
    """The checkpoint the tests above damage is itself one --resume goes on from."""
    folder, _ = seq_copy
    assert run_main(seq_train.main, [*seq_flags(folder, 2), "--resume"]) == 0, capsys.readouterr().err
    assert os.path.isfile(folder / "net" / "anbn_srn2_2.pth")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["resume"]["optimizer"]["param_groups"][0].update(params=[0]), "the optimiser state does not fit"),
    (lambda d: d["resume"]["optimizer"]["state"][1].update(exp_avg=d["resume"]["optimizer"]["state"][1]["exp_avg"][:1]),
     "the optimiser's exp_avg has shape"),
    (lambda d: d["resume"]["model"].update({"out.bias": d["resume"]["model"]["out.bias"][:1]}),
     "the weights do not fit"),
])
def test_seq_train_refuses_a_saved_state_that_does_not_fit(change, message, seq_copy, capsys):
    folder, path = seq_copy
    damage(path, change)
    err = refused(seq_train.main, [*seq_flags(folder, 2), "--resume"], folder, capsys)
    assert f"{path}: " in err and message in err


# --- kuzu_main.py --resume --------------------------------------------------------------------------------------

def kuzu_flags(folder, epochs):
    return ["--net", "lin", "--epochs", str(epochs), "--data", str(folder / "data"), "--no-download",
            "--plot-dir", str(folder / "plot"), "--save", str(folder / "lin.pth")]


@pytest.fixture(scope="module")
def kuzu_run(tmp_path_factory):
    """A folder holding a small synthetic KMNIST (data/), and plot/ and lin.pth of two epochs of NetLin on it."""
    folder = tmp_path_factory.mktemp("kuzu_run")
    make_kmnist(str(folder / "data"), train=200, test=100)
    assert run_main(kuzu_main.main, kuzu_flags(folder, 2)) == 0
    return folder


def after_one_epoch(data):
    """Make the saved run one stopped after its first epoch (of two): what --resume goes on from."""
    data["epoch"] = 1
    data["resume"]["epochs"] = data["resume"]["epochs"][:1]


@pytest.fixture
def kuzu_copy(kuzu_run, tmp_path):
    """A copy of kuzu_run's folder whose checkpoint stopped after epoch 1; returns (folder, its path)."""
    folder = tmp_path / "run"
    shutil.copytree(kuzu_run, folder)
    damage(str(folder / "lin.pth"), after_one_epoch)
    return folder, str(folder / "lin.pth")


KUZU_DAMAGE = {
    "no args": (lambda d: d.pop("args"), "args is missing"),
    "epoch 'one'": (lambda d: d.update(epoch="one"), "epoch is 'one', expected a whole number"),
    "an empty optimiser state": (lambda d: d["resume"].update(optimizer={}), "resume.optimizer.state is missing"),
    "a schedule of text": (lambda d: d["resume"].update(scheduler="cosine"), "resume.scheduler is 'cosine'"),
    "a generator state of floats": (lambda d: d["resume"].update(rng=d["resume"]["rng"].float()),
                                    "resume.rng is a float32 tensor of shape (5056,), expected a tensor of uint8"),
    "a generator state cut short": (lambda d: d["resume"].update(rng=d["resume"]["rng"][:100]),
                                    "resume.rng holds 100 bytes"),
    "an epoch's loss as text": (lambda d: d["resume"]["epochs"][0].update(train_loss="low"),
                                "resume.epochs[0].train_loss is 'low'"),
    "NaN weights": (nan_in("top", "state_dict"), "holds NaN"),
}


@pytest.mark.parametrize("how", KUZU_DAMAGE)
def test_kuzu_main_refuses_a_damaged_resume_checkpoint(how, kuzu_copy, capsys):
    folder, path = kuzu_copy
    change, message = KUZU_DAMAGE[how]
    damage(path, change)
    err = refused(kuzu_main.main, [*kuzu_flags(folder, 2), "--resume"], folder, capsys)
    assert f"{path}: " in err and message in err


def test_kuzu_main_resumes_from_the_undamaged_copy(kuzu_copy, capsys):
    folder, _ = kuzu_copy
    assert run_main(kuzu_main.main, [*kuzu_flags(folder, 2), "--resume"]) == 0, capsys.readouterr().err
    assert "resuming from" in capsys.readouterr().out


def test_kuzu_main_refuses_an_optimiser_state_that_does_not_fit(kuzu_copy, capsys):
    folder, path = kuzu_copy
    damage(path, lambda d: d["resume"]["optimizer"]["param_groups"][0].update(params=[0]))
    err = refused(kuzu_main.main, [*kuzu_flags(folder, 2), "--resume"], folder, capsys)
    assert f"{path}: " in err and "the optimiser state does not fit" in err
