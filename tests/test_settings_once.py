"""Each setting is declared once: every command's flags come from one declaration in its settings class.

The walk over the parsers finds, for every flag of every command, exactly
one field of the command's settings class that declares it, with the
parser's default and bounds those of the declaration; the commands of Part 3
share one declaration for each flag they share. The bounds themselves, and
what a file with a value out of them is told, are checked against values
written out here by hand.
"""
import argparse
import contextlib
import io

import pytest
import torch

import seq_fsm
import seq_plot
import seq_train
from damage import seq_checkpoint
from kuzu import build_model as build_kuzu, load_checkpoint as load_kuzu, model_settings, save_kuzu_checkpoint
from lab.characters.settings import Settings as KuzuSettings
from lab.check.settings import Settings as CheckSettings
from lab.common.errors import CheckpointError, UserError
from lab.common.options import add_flags, declared, same_on_resume
from lab.recurrent.series import read_checkpoint as read_seq
from lab.recurrent.settings import ExplainSettings, MachineSettings, PlotSettings, TrainSettings
from lab.report.checks import read_run_record
from seq_models import load_checkpoint as load_seq

COMMANDS = {"kuzu_main.py": KuzuSettings, "check_main.py": CheckSettings, "seq_train.py": TrainSettings,
            "seq_plot.py": PlotSettings, "seq_fsm.py": MachineSettings, "seq_explain.py": ExplainSettings}


def parser_of(command):
    """The command's own parser where it has one, else the one made from its settings class."""
    module = {"seq_train.py": seq_train, "seq_plot.py": seq_plot, "seq_fsm.py": seq_fsm}.get(command)
    return module.build_parser() if module else add_flags(argparse.ArgumentParser(), COMMANDS[command])


def flags_of(parser):
    """The parser's flags (not --help): option strings -> action."""
    return {tuple(a.option_strings): a for a in parser._actions if a.option_strings and a.dest != "help"}


def refused(parser, argv):
    """Whether the parser refuses ``argv`` (exit 2, as for every bad flag)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code == 2
    return False


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_is_declared_once_with_the_parsers_default_and_bounds(command):
    parser, cls = parser_of(command), COMMANDS[command]
    fields = declared(cls)
    for names, action in flags_of(parser).items():
        declaring = [(name, flag) for name, flag, _ in fields if set(names) & set(flag.names)]
        assert len(declaring) == 1, (command, names, declaring)
        name, flag = declaring[0]
        assert names[:len(flag.names)] == flag.names  # (BooleanOptionalAction adds --no-nesterov itself)
        assert action.dest == name and parser.get_default(name) == flag.default
        for bound, step in ((flag.low, -1), (flag.high, 1)):  # the bound is taken, one beyond it refused
            if bound is not None:
                assert not refused(parser, [names[0], str(bound)]) and refused(parser, [names[0], str(bound + step)])
        for bound in (flag.above, flag.below):  # the bound itself refused
            assert bound is None or refused(parser, [names[0], str(bound)])
    assert len(flags_of(parser)) == len(fields)  # and no field without its flag


def test_part3_commands_share_one_declaration_per_flag():  # seq_models's --model and --hid included
    seen = {}
    for cls in (TrainSettings, PlotSettings, MachineSettings, ExplainSettings):
        for name, flag, _ in declared(cls):
            assert seen.setdefault(flag.names, flag) is flag, f"{flag.names} declared twice"
    assert {("--lang",), ("--model",), ("--hid",), ("--seed",), ("--out_path", "--out-path")} <= set(seen)


@pytest.mark.parametrize("command, flag, lowest, highest", [  # written out by hand from the flags' help and docs
    ("kuzu_main.py", "--hid", 1, 100_000), ("kuzu_main.py", "--conv1", 1, 4096), ("kuzu_main.py", "--fc", 1, 100_000),
    ("kuzu_main.py", "--batch-size", 1, 60_000), ("kuzu_main.py", "--shift", 0, 4), ("kuzu_main.py", "--erase", 0, 28),
    ("kuzu_main.py", "--seed", 0, 2**32 - 1), ("check_main.py", "--hid", 1, 1000), ("check_main.py", "--patience", 100, None),
    ("seq_train.py", "--hid", 1, 1024), ("seq_train.py", "--candidates", 1, 64), ("seq_train.py", "--batch", 1, 1000),
    ("seq_plot.py", "--hid", 1, 1024), ("seq_fsm.py", "--max_states", 2, 10_000), ("seq_explain.py", "--seed", 0, 2**32 - 1),
])
def test_the_bounds_are_the_documented_ones(command, flag, lowest, highest):
    parser = parser_of(command)
    assert not refused(parser, [flag, str(lowest)]) and refused(parser, [flag, str(lowest - 1)])
    if highest is not None:
        assert not refused(parser, [flag, str(highest)]) and refused(parser, [flag, str(highest + 1)])


@pytest.mark.parametrize("command, flag, value, default", [  # the defaults the help and the course give
    ("kuzu_main.py", "--net", "net", "full"), ("kuzu_main.py", "--epochs", "epochs", 10),
    ("kuzu_main.py", "--hid", "hid", 500), ("kuzu_main.py", "--batch-size", "batch_size", 64),
    ("kuzu_main.py", "--seed", "seed", 1), ("check_main.py", "--hid", "hid", 4), ("check_main.py", "--lr", "lr", 0.001),
    ("check_main.py", "--epoch", "epoch", 200000), ("seq_train.py", "--lang", "lang", "anb2n"),
    ("seq_train.py", "--threads", "threads", 1), ("seq_fsm.py", "--tv", "tv", 0.1),
])
def test_the_defaults_are_the_documented_ones(command, flag, value, default):
    assert getattr(parser_of(command).parse_args([]), value) == default


def test_resume_keys_are_the_settings_a_run_must_keep():
    assert set(same_on_resume(KuzuSettings)) == {
        "net", "lr", "mom", "nesterov", "epochs", "hid", "conv1", "conv2", "fc", "dropout", "shift", "schedule",
        "batch_size", "seed", "ema", "smoothing", "erase", "wd"}
    assert set(same_on_resume(TrainSettings)) == {
        "lang", "embed", "length", "model", "hid", "optim", "lr", "mom", "init", "batch", "candidates", "select", "seed"}


@pytest.mark.parametrize("key, value, message", [
    ("num_hid", 2000, "config.num_hid is 2000, expected a whole number from 1 to 1024"),
    ("candidates", 65, "config.candidates is 65, expected a whole number from 1 to 64 or None"),
    ("batch", 0, "config.batch is 0, expected a whole number from 1 to 1000"),
    ("mom", 1.0, "config.mom is 1.0, expected a finite number at least 0 and below 1"),
    ("lr", -0.1, "config.lr is -0.1, expected a finite number above 0 or None"),
    ("seed", 2**32, "config.seed is 4294967296, expected a whole number from 0 to 4294967295"),
    ("model", "gru", "config.model is 'gru', expected one of srn, lstm"),
])
def test_a_seq_config_out_of_bounds_is_refused_naming_the_key(tmp_path, key, value, message):
    path = seq_checkpoint(tmp_path / "a.pth", **{key: value})
    with pytest.raises(CheckpointError) as refusal:
        read_seq(str(path))
    assert str(refusal.value) == f"{path}: {message}"
    if key in ("num_hid", "model"):  # what rebuilding the network needs is checked by seq_models itself too
        with pytest.raises(CheckpointError, match=message):
            load_seq(str(path))


@pytest.mark.parametrize("sizes, message", [
    ({"conv1": 5000}, "config.conv1 is 5000, expected a whole number from 1 to 4096"),
    ({"dropout": 1.0}, "config.dropout is 1.0, expected a finite number at least 0 and below 1"),
    ({"fc": 0}, "config.fc is 0, expected a whole number from 1 to 100000"),
])
def test_a_kuzu_config_out_of_bounds_is_refused_naming_the_key(tmp_path, sizes, message):
    path = str(tmp_path / "conv.pth")
    good = dict(conv1=2, conv2=2, fc=3, dropout=0.0)
    torch.save({"format": "nn-lab checkpoint 1", "kind": "kuzu", "config": dict(model_settings("conv", **good), **sizes),
                "state_dict": build_kuzu("conv", **good).state_dict()}, path)
    with pytest.raises(CheckpointError) as refusal:
        load_kuzu(path)
    assert str(refusal.value) == f"{path}: {message}"


def test_a_good_kuzu_checkpoint_loads(tmp_path):
    path = str(tmp_path / "full.pth")
    save_kuzu_checkpoint(path, build_kuzu("full", hid=3), model_settings("full", hid=3))
    assert load_kuzu(path)[1]["config"] == {"net": "full", "hid": 3}


def test_a_record_whose_settings_are_out_of_bounds_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "check_sig_4.json"
    path.write_text('{"command": "check_main.py", "files": [], "results": {}, "settings": {"hid": 0, "act": "sig"}}')
    with pytest.raises(UserError) as refusal:
        read_run_record(str(path))
    assert str(refusal.value) == f"{path}: settings.hid is 0, expected a whole number from 1 to 1000"


def test_settings_built_without_the_command_line_are_checked_too():
    with pytest.raises(UserError, match="--candidates is 100, expected a whole number from 1 to 64"):
        TrainSettings(candidates=100)
    with pytest.raises(UserError, match="--shift is 9, expected a whole number from 0 to 4"):
        KuzuSettings(shift=9)
