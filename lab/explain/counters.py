"""The counters: how each unit changes per symbol in each phase, and which unit decides each prediction.

Rate. Within a phase, a unit's value y after the k-th symbol of that phase
is fitted by a straight line with one slope (the rate) shared by every
string and an intercept per string, by least squares over the strings of
the training range. r^2 is the share of the within-string variance the line
explains; the spread is the standard deviation of the one-step changes.

Decision. In phase p >= 1 the network must keep predicting p until the
phase's last symbol and then switch (to the next phase, or to the A of the
next string). For every unit, the threshold that best separates the
positions where it must switch from those where it must continue is found;
the unit that separates most (then by the widest gap) is the one whose
value decides the prediction, and the threshold is the middle of the gap.

Drift. Where a phase ends, the deciding unit's value is read against its
threshold. A count whose rates balance ends the phase at the same value
whatever n; one that does not drifts, and past the training range the
drift carries the value across the threshold a step early or late. The
drift is the slope of a straight line through the values at the phase's
last symbol over n, fitted separately in the training range and past it.
"""
import numpy as np

COUNTS_R2 = 0.9  # a unit counts steadily in a phase when its line explains at least this share
STILL_RATE = 0.05  # a rate smaller than this (per symbol) is "stays nearly constant"


def units(maps):
    """(label, index into the state) for every unit the analysis looks at: cells first for an LSTM."""
    hidden = [(f"hidden unit {u}", u) for u in range(maps.hid)]
    if maps.kind == "lstm":
        return [(f"cell unit {u}", maps.hid + u) for u in range(maps.hid)] + hidden
    return hidden


def fit_rate(runs, phase, index):
    """The straight-line fit of one unit in one phase over strings: dict of rate, r2, spread, mean_step, points."""
    ks, ys, diffs = [], [], []
    for run in runs:
        where = run.phase == phase
        k, y = run.step[where].astype(np.float64), run.states[where, index]
        if len(k) < 2:
            continue
        ks.append(k - k.mean())
        ys.append(y - y.mean())
        diffs.append(np.diff(y))
    if not ks:
        return None
    k, y, d = np.concatenate(ks), np.concatenate(ys), np.concatenate(diffs)
    rate = float(k @ y / (k @ k))
    total = float(y @ y)
    r2 = 1.0 - float(((y - rate * k) ** 2).sum()) / total if total > 0 else 0.0
    return {"rate": rate, "r2": r2, "spread": float(d.std()), "mean_step": float(d.mean()), "points": int(len(d))}


def verdict(fit):
    """The fit in words: "counts up", "counts down", "changes but not steadily" or "stays nearly constant"."""
    if abs(fit["rate"]) < STILL_RATE:
        return "stays nearly constant"
    if fit["r2"] < COUNTS_R2:
        return "changes but not steadily"
    return "counts up" if fit["rate"] > 0 else "counts down"


def rates(maps, runs, symbols):
    """Every unit's fit in every phase: a list of dicts (unit, phase symbol, rate, r2, spread, verdict)."""
    rows = []
    for label, index in units(maps):
        for phase, symbol in enumerate(symbols):
            fit = fit_rate(runs, phase, index)
            if fit is not None:
                rows.append({"unit": label, "phase": symbol, **fit, "verdict": verdict(fit)})
    return rows


def best_threshold(values, switch):
    """The threshold on ``values`` that best separates ``switch`` (bool) from the rest.

    Returns (accuracy, gap, threshold, direction) where direction is
    "above" (switch when the value rises above the threshold) or "below".
    """
    order = np.argsort(values)
    v, s = values[order], switch[order]
    n = len(v)
    best = None
    for direction in ("above", "below"):
        # switch predicted for the top (above) or bottom (below) part of the sorted values
        flags = s if direction == "above" else s[::-1]
        vals = v if direction == "above" else v[::-1]
        right_below = np.concatenate([[0], np.cumsum(~flags)])  # continues left of each cut
        right_above = np.concatenate([np.cumsum(flags[::-1])[::-1], [0]])  # switches right of each cut
        for cut in range(n + 1):
            acc = (right_below[cut] + right_above[cut]) / n
            if 0 < cut < n:
                gap, threshold = abs(vals[cut] - vals[cut - 1]), (vals[cut] + vals[cut - 1]) / 2
            else:  # every position on one side: no gap
                gap, threshold = 0.0, vals[0] if cut == 0 else vals[-1]
            if best is None or (acc, gap) > best[0]:
                best = ((acc, gap), (float(acc), float(gap), float(threshold), direction))
    return best[1]


def on_switch_side(value, decision):
    """True where ``value`` of the deciding unit lies on the side of its threshold where the network switches."""
    if decision["direction"] == "above":
        return value > decision["threshold"]
    return value < decision["threshold"]


def unit_thresholds(maps, runs, phase, cells_only=False):
    """Every unit's best threshold between continuing and switching in phase ``phase`` (``best_threshold``).

    A list of (label, index, decision), decision a dict of threshold,
    direction, separates and gap; ``cells_only`` keeps an LSTM's cell units.
    """
    values = np.vstack([run.states[run.phase == phase] for run in runs])
    switch = np.concatenate([run.last_in_phase[run.phase == phase] for run in runs])
    found = []
    for label, index in units(maps):
        if cells_only and not label.startswith("cell"):
            continue
        acc, gap, threshold, direction = best_threshold(values[:, index], switch)
        found.append((label, index, {"threshold": threshold, "direction": direction, "separates": acc, "gap": gap}))
    return found


def decisions(maps, runs, symbols):
    """For each phase p >= 1, the unit whose value decides between continuing and switching; a list of dicts."""
    rows = []
    for phase in range(1, len(symbols)):
        right = np.concatenate([(run.predicted == run.targets)[run.phase == phase] for run in runs])
        then = symbols[phase + 1] if phase + 1 < len(symbols) else symbols[0]
        best = None
        for label, index, d in unit_thresholds(maps, runs, phase):
            if best is None or (d["separates"], d["gap"]) > (best["separates"], best["gap"]):
                best = {"unit": label, "index": index, **d}
        rows.append({"phase": symbols[phase], "then": then, "network_right": float(right.mean()),
                     "positions": int(len(right)), **best})
    return rows


NEAR_BEST = 0.05  # a unit separating the switch within this share of the best unit is a candidate counter


def switch_candidates(maps, runs, phase, cells_only=False):
    """The units whose threshold separates the switch of phase ``phase`` about as well as any (within NEAR_BEST):
    a list of (label, index, decision) as ``unit_thresholds`` gives them."""
    found = unit_thresholds(maps, runs, phase, cells_only)
    top = max(d["separates"] for _, _, d in found)
    return [c for c in found if c[2]["separates"] >= top - NEAR_BEST]


def a_phase_values(run, index):
    """The unit's value after 1, 2, ... A's of one string."""
    return [float(v) for v in run.states[run.phase == 0, index]]


def gate_means(maps, runs, symbols):
    """An LSTM's mean input, forget and output gate per unit and phase: a list of dicts.

    Besides the means over the whole phase, forget_steady is the forget
    gate's mean over the phase's symbols but its first (where the phase
    begins) and its last two, and forget_end its mean over those last two,
    where a count that ends collapses.
    """
    rows = []
    for phase, symbol in enumerate(symbols):
        gates, end, first = [], [], []
        for run in runs:
            before = np.vstack([maps.initial[None], run.states[:-1]])
            where = np.nonzero(run.phase == phase)[0]
            for t in where:
                gates.append(np.stack(maps.gates(before[t], int(run.inputs[t]))))
                end.append(t >= where[-1] - 1)
                first.append(t == where[0])
        gates, end, first = np.array(gates), np.array(end), np.array(first)
        mean = gates.mean(axis=0)
        middle = ~end & ~first
        steady = gates[middle].mean(axis=0) if middle.any() else mean
        last = gates[end].mean(axis=0)
        for u in range(maps.hid):
            rows.append({"unit": f"cell unit {u}", "phase": symbol, "input": float(mean[0, u]),
                         "forget": float(mean[1, u]), "output": float(mean[2, u]),
                         "forget_steady": float(steady[1, u]), "forget_end": float(last[1, u])})
    return rows


STEADY_DRIFT = 0.05  # an end value that moves less than this per n over the training range is steady


def _slope(ns, values):
    """The least-squares slope of ``values`` over ``ns``, or None with fewer than two points."""
    return float(np.polyfit(ns, values, 1)[0]) if len(ns) >= 2 else None


def end_drift(runs, decision, phase, length):
    """How the deciding unit's value at the last symbol of phase ``phase`` (its symbol index) moves with n (see
    Drift above): the values per n, the slope over n = 1..length (``in_range``) and past it (``beyond``, None
    with fewer than two such n), and for each slope whether it moves the value towards the side of the
    threshold where the network switches."""
    ordered = sorted(runs, key=lambda run: run.n)
    ns = [run.n for run in ordered]
    values = [float(run.states[np.nonzero(run.phase == phase)[0][-1], decision["index"]]) for run in ordered]
    inside = [k for k, n in enumerate(ns) if n <= length]
    past = [k for k, n in enumerate(ns) if n > length]
    slopes = {key: _slope([ns[k] for k in ks], [values[k] for k in ks]) for key, ks in (("in_range", inside),
                                                                                      ("beyond", past))}
    rising = decision["direction"] == "above"  # the network switches once the value rises above the threshold
    towards = {f"towards_{key}": None if slope is None else (slope > 0) == rising for key, slope in slopes.items()}
    return {"phase": decision["phase"], "unit": decision["unit"], "threshold": decision["threshold"],
            "direction": decision["direction"], "ns": ns, "values": values, **slopes, **towards}
