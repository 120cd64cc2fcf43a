"""Beyond the training range: for each n, the first deterministic position the network gets wrong, and why.

A position is wrong when the network's most probable next symbol is not the
one that comes. Within a phase the network either keeps predicting the
phase's symbol or switches to what follows it, so an error is "too early"
(it switched while the phase goes on) or "too late" (it kept the phase's
symbol when the phase is over). The deciding unit's value there is compared
with its threshold in the direction of its rule ("past" it means on the
side where the network switches), and its change at that step with its rate
in the training range: a change under SATURATED of the rate means the
counter has stopped moving (saturated). Where the unit is not on the side
that matches what the network did, the unit does not account for the error:
the output's own comparison does (its logit margin is recorded). Every
wrong deterministic position is listed, not only the first.
"""
import numpy as np

from lab.explain.counters import on_switch_side

SATURATED = 0.2  # a step change under this share of the in-range rate counts as a saturated counter


def first_error(run, symbols, decisions, rates):
    """The first wrong deterministic position of one string as a dict, or None when every one is right."""
    wrong = np.nonzero(run.deterministic & (run.predicted != run.targets))[0]
    share = float((run.predicted == run.targets)[run.deterministic].mean())
    if not len(wrong):
        return {"n": run.n, "right": share, "wrong": [], "error": None}
    t = int(wrong[0])
    phase = int(run.phase[t])
    follows = phase + 1 if phase + 1 < len(symbols) else 0
    predicted, expected = int(run.predicted[t]), int(run.targets[t])
    kind = ("too early" if predicted == follows and expected == phase else
            "too late" if predicted == phase and expected == follows else "other")
    decision = next(d for d in decisions if d["phase"] == symbols[phase])
    value = float(run.states[t, decision["index"]])
    before = float(run.states[t - 1, decision["index"]]) if t > 0 else value
    rate = next((r["rate"] for r in rates if r["unit"] == decision["unit"] and r["phase"] == symbols[phase]), None)
    saturated = rate is not None and abs(rate) >= 1e-9 and abs(value - before) < SATURATED * abs(rate)
    past = on_switch_side(value, decision)
    switched = predicted != phase
    return {"n": run.n, "right": share, "wrong": every_error(run, symbols), "error": {
        "position": t, "phase": symbols[phase], "count": int(run.step[t]), "of": int((run.phase == phase).sum()),
        "predicted": symbols[predicted], "expected": symbols[expected], "kind": kind, "unit": decision["unit"],
        "value": value, "threshold": decision["threshold"], "direction": decision["direction"], "past": bool(past),
        "unit_agrees": bool(past == switched), "margin": margin(run, t), "step_change": value - before,
        "saturated": saturated}}


def margin(run, t):
    """How far ahead the predicted symbol's logit was of the next best at position t (from the run's logits)."""
    logits = np.sort(run.logits[t])
    return float(logits[-1] - logits[-2])


def every_error(run, symbols):
    """Every wrong deterministic position of one string: a list of (phase symbol, count, predicted, expected)."""
    wrong = np.nonzero(run.deterministic & (run.predicted != run.targets))[0]
    return [[symbols[int(run.phase[t])], int(run.step[t]), symbols[int(run.predicted[t])],
             symbols[int(run.targets[t])]] for t in wrong]


def beyond(runs, symbols, decisions, rates):
    """``first_error`` for every run: a list of dicts, one per n."""
    return [first_error(run, symbols, decisions, rates) for run in runs]


def common_stop(rows, length):
    """Where every n past ``length`` first fails at the same count in the same phase with the same prediction.

    Returns (phase, count, predicted) when that holds for two or more n, else None.
    """
    past = [r["error"] for r in rows if r["n"] > length]
    if len(past) < 2 or any(e is None for e in past):
        return None
    keys = {(e["phase"], e["count"], e["predicted"]) for e in past}
    return keys.pop() if len(keys) == 1 else None
