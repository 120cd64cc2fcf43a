"""lab.common.schema: the walk over a loaded file, and the resume states, against values written out by hand."""
import math

import pytest
import torch

from lab.common.errors import CheckpointError, UserError
from lab.common.schema import (check, check_kuzu_resume, check_seq_resume, describe, either, fields, flag, listing,
                               mapping, number, row, tensor, text, whole)


def problem(value, spec):
    """The message check gives for ``value`` in the file f.json, or None when it passes."""
    try:
        check("f.json", value, spec)
    except UserError as err:
        return str(err)
    return None


@pytest.mark.parametrize("value, spec, message", [
    (3, whole(1, 4), None),
    (True, whole(), "f.json: its content is True, expected a whole number"),  # true/false is not a number here
    (5, whole(1, 4), "f.json: its content is 5, expected a whole number from 1 to 4"),
    (2.5, whole(), "f.json: its content is 2.5, expected a whole number"),
    (0.5, number(0, below=1), None),
    (1.0, number(0, below=1), "f.json: its content is 1.0, expected a finite number at least 0 and below 1"),
    (math.inf, number(), "f.json: its content is inf, expected a finite number"),
    (math.nan, number(finite=False), None),
    ("x" * 100, number(), "f.json: its content is '" + "x" * 36 + "..., expected a finite number"),
    (None, text(nullable=True), None),
    ("gru", text(("srn", "lstm")), "f.json: its content is 'gru', expected one of srn, lstm"),
    ([1, "2"], listing(whole()), "f.json: [1] is '2', expected a whole number"),
    ([1, 2, 3], listing(length=2), "f.json: its content has 3 items, expected 2"),
    ((1, "low"), row(whole(), number()), "f.json: [1] is 'low', expected a finite number"),
    ({"a": 1}, fields({"a": whole(), "b": flag(optional=True)}), None),
    ({"a": {}}, fields({"a": fields({"b": flag()})}), "f.json: a.b is missing"),
    ({"x.y": "1"}, mapping(whole()), "f.json: ['x.y'] is '1', expected a whole number"),
    ({0: {"step": "one"}}, mapping(mapping(either(tensor(), number()))),
     "f.json: [0].step is 'one', expected a tensor or a finite number"),
])
def test_the_walk_names_the_place_and_what_is_wrong(value, spec, message):
    assert problem(value, spec) == message


def test_tensors_are_checked_for_kind_shape_and_finite_values():
    assert problem(torch.zeros(3), tensor()) is None
    assert problem(torch.tensor([0.0, math.nan]), tensor()) == "f.json: its content holds NaN (not a number), " \
                                                                 "expected finite values"
    assert problem(torch.tensor([1.0, -math.inf]), tensor()) == "f.json: its content holds infinity, expected " \
                                                                "finite values"
    assert problem(torch.tensor([math.nan]), tensor(finite=False)) is None
    assert problem(torch.zeros(2, 2), tensor(dtype="uint8", ndim=1)) == (
        "f.json: its content is a float32 tensor of shape (2, 2), expected a tensor of uint8 with 1 dimension(s)")
    assert problem([0.0], tensor()) == "f.json: its content is a list of 1 item(s), expected a tensor"


def test_descriptions_read_as_words():
    assert describe(whole(0)) == "a whole number at least 0"
    assert describe(number(above=0)) == "a finite number above 0"
    assert describe(whole(1, 64, nullable=True)) == "a whole number from 1 to 64 or None"
    assert describe(listing(length=10)) == "a list of 10 items"


# --- the resume states, built by hand as the lab writes them ---------------------------------------------------

def seq_state(candidates=1):
    """What seq_train.py saves for --resume: an SRN with 1 hidden unit, Adam after one step, PCG64, progress."""
    weights = {"H0": torch.zeros(1), "out.weight": torch.ones(2, 1), "out.bias": torch.zeros(2)}
    return {
        "settings": {"lang": "anbn", "embed": False, "length": None, "model": "srn", "hid": 1,
                     "candidates": candidates, "batch": 10, "seed": 0},
        "model": weights,
        "optimizer": {"state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.zeros(1)}},
                      "param_groups": [{"lr": 0.003, "params": [0, 1, 2]}]},
        "rng": {"bit_generator": "PCG64", "state": {"state": 2**127, "inc": 5}, "has_uint32": 0, "uinteger": 0},
        "progress": {"seen": 1000, "reports": [(1, 0.25)], "last": "net/anbn_srn1_1.pth", "chosen": 0,
                     "final_choice": True, "candidate_losses": None, "provisional": []},
    }


def test_a_whole_seq_resume_state_passes():
    state = seq_state()
    assert check_seq_resume("x.pth", state) is state


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("progress"), "x.pth: resume.progress is missing"),
    (lambda s: s["rng"]["state"].update(inc=2**128), "x.pth: resume.rng.state.inc is 3402823669209384634633746074"),
    (lambda s: s["progress"].update(chosen=1), "x.pth: resume.progress.chosen is 1, expected a candidate below 1"),
    (lambda s: s["model"]["H0"].fill_(math.nan), "x.pth: resume.model.H0 holds NaN"),
    (lambda s: s["progress"]["provisional"].append((1, "p.pth", {}, "losses")),
     "x.pth: resume.progress.provisional[0][3] is 'losses', expected a list"),
])
def test_a_damaged_seq_resume_state_is_named(change, message):
    state = seq_state()
    change(state)
    with pytest.raises(CheckpointError) as refusal:
        check_seq_resume("x.pth", state)
    assert str(refusal.value).startswith(message)


def test_a_population_may_carry_a_candidate_that_diverged():
    state = seq_state(candidates=2)
    state["model"]["H0"].fill_(math.nan)
    state["progress"].update(chosen=1, candidate_losses=[math.nan, 0.1])
    assert check_seq_resume("x.pth", state) is state


def test_no_resume_state_says_so():
    with pytest.raises(CheckpointError, match="x.pth holds no state to go on from"):
        check_seq_resume("x.pth", None)


def kuzu_checkpoint():
    return {"args": {"net": "lin", "epochs": 2}, "epoch": 1, "resume": {
        "epochs": [{"epoch": 1, "train_loss": 0.5, "test_loss": 0.6, "correct": 70, "accuracy": 70.0}],
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
        "scheduler": {"last_epoch": 10, "base_lrs": [0.01]}, "rng": torch.get_rng_state()}}


def test_a_whole_kuzu_resume_checkpoint_passes():
    ckpt = kuzu_checkpoint()
    assert check_kuzu_resume("k.pth", ckpt) is ckpt


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("args"), "k.pth: args is missing"),
    (lambda c: c.update(epoch="one"), "k.pth: epoch is 'one', expected a whole number at least 1"),
    (lambda c: c["resume"].update(optimizer={}), "k.pth: resume.optimizer.state is missing"),
    (lambda c: c["resume"].update(rng=torch.zeros(10, dtype=torch.uint8)), "k.pth: resume.rng holds 10 bytes"),
])
def test_a_damaged_kuzu_resume_checkpoint_is_named(change, message):
    ckpt = kuzu_checkpoint()
    change(ckpt)
    with pytest.raises(CheckpointError) as refusal:
        check_kuzu_resume("k.pth", ckpt)
    assert str(refusal.value).startswith(message)


@pytest.mark.parametrize("value, spec, message", [
    (0, number(above=0), "f.json: its content is 0, expected a finite number above 0"),  # 'above' leaves the bound out
    (0.001, number(above=0), None),
    (1, number(below=1), "f.json: its content is 1, expected a finite number below 1"),
    (4, whole(1, 4), None),  # 'from 1 to 4' takes both ends
    (1, whole(1, 4), None),
    (0, whole(1, 4), "f.json: its content is 0, expected a whole number from 1 to 4"),
    (None, text(), "f.json: its content is None, expected text"),  # None only where nullable
    (None, whole(nullable=True), None),
    ((1,), row(whole(), whole()), "f.json: its content has 1 items, expected 2"),  # too few as well as too many
    ((1, 2, 3), row(whole(), whole()), "f.json: its content has 3 items, expected 2"),
    ([], listing(low=1), "f.json: its content has 0 items, expected at least 1"),
    ([1], listing(low=1), None),
])
def test_bounds_none_and_row_lengths_by_hand(value, spec, message):
    assert problem(value, spec) == message
