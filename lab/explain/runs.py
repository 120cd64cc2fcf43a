"""How long the network keeps each phase going, measured by running it, and predicted from one counter.

Run length. For a phase p >= 1 the network is given the true string up to
the phase (n A's, then the B's, ...) and then p's symbol again and again;
its run length is how many of them it reads before it first predicts
something other than p (the true length is m_p n). This is the network's
own answer, measured, not derived from the analysis.

Counter model. The count is read off one unit x (or, for an LSTM, a
counting cell and a second unit beside it: another cell, or a hidden unit,
whose value feeds the gates). Under p's symbol, x moves by
g(x): the network's own map applied to the state seen in the training range
(from the phase's second symbol on) whose value of x is nearest, with x set
in it, so the rest of the state is what goes with that count. From x after
the phase's first symbol, g is applied until the deciding unit crosses its
threshold; the number of symbols read then is the predicted run length. Of
the candidate units, the one whose prediction agrees best with the
network's own runs is kept, with how many are equal and within one symbol.
Where it agrees, the unit and its map are the mechanism; where it does not,
they are not all of it, and the text says so.

Collapse. Where the run length stops growing with n (the same for every n
from some point on), the counter's values after the previous phase and
after the phase's first symbol are compared for those n: a spread under
LOST x the smallest in-range spacing between neighbouring n means the first
symbol erased the difference between them.
"""
import numpy as np

from lab.explain.counters import on_switch_side

LOST = 0.1  # states closer than this share of the in-range spacing no longer tell n apart


def string_prefix(symbols_mult, n, phase):
    """The true inputs before phase ``phase`` for this n: n A's, then m_1 n B's, ... (a list of indices)."""
    prefix = []
    for q in range(phase):
        prefix += [q] * (n * symbols_mult[q])
    return prefix


def run_length(maps, mult, n, phase, cap):
    """The network's own run of phase ``phase`` after the true prefix: (length, what it predicted then, states).

    ``mult`` is (1, m_1, m_2, ...). Length is None when the network still
    predicts the phase's symbol after ``cap`` of them; states are the states
    after each of the phase's symbols read (first one first).
    """
    prefix = string_prefix(mult, n, phase)
    state = maps.run(prefix)[-1] if prefix else maps.initial
    states = []
    for k in range(1, cap + 1):
        state = maps.step(state, phase)
        states.append(state)
        predicted = int(np.argmax(maps.logits(maps.hidden(state))))
        if predicted != phase:
            return k, predicted, np.array(states)
    return None, phase, np.array(states)


class CounterMap:
    """The map of one or two units under one symbol, x -> g(x) (see the module's docstring).

    g(x) is the network's own map applied to the state seen in the training
    range whose values of these units are nearest x, with the units set to
    x: the rest of the state is what typically goes with that count.
    """

    def __init__(self, maps, symbol, indices, states):
        self.indices = list(indices)
        self.states = np.asarray(states, float)
        self.maps, self.symbol = maps, symbol

    def __call__(self, x):
        nearest = np.argmin(np.linalg.norm(self.states[:, self.indices] - x, axis=1))
        state = self.states[int(nearest)].copy()
        state[self.indices] = x
        return self.maps.step(state, self.symbol)[self.indices]


def phase_states(runs, phase):
    """The states within phase ``phase`` of the runs, from its second symbol on (the first comes from the
    phase before)."""
    return [run.states[t] for run in runs for t in np.nonzero((run.phase == phase) & (run.step > 1))[0]]


def predict_run(entry, counter, decision, cap):
    """Symbols read until the counter, from ``entry`` after the first, crosses to the switch side (None past cap).

    ``entry`` holds the counter's units, the deciding one first.
    """
    x = np.asarray(entry, float)
    for k in range(1, cap + 1):
        if on_switch_side(x[0], decision):
            return k
        x = counter(x)
    return None


def _spacing(values):
    """The smallest gap between neighbouring values (in the order given)."""
    values = np.asarray(values, float)
    return float(np.min(np.abs(np.diff(values)))) if len(values) > 1 else 0.0


def collapse(maps, mult, phase, index, ns_in, ns_past):
    """Where the strings of ``ns_past`` stop differing at the start of ``phase``, on unit ``index``.

    Returns a dict: before (their values after the last symbol of the previous
    phase), after (after the first symbol of this phase), in_range_spacing
    (the smallest gap there between neighbouring n of ``ns_in``), spread
    (largest minus smallest of ``after``) and lost (spread under LOST x the
    spacing).
    """
    def at_entry(n):
        prefix = string_prefix(mult, n, phase)
        last = maps.run(prefix)[-1]
        return float(last[index]), float(maps.step(last, phase)[index])

    inside = [at_entry(n)[1] for n in ns_in]
    past = [at_entry(n) for n in ns_past]
    after = [a for _, a in past]
    spacing = _spacing(inside)
    spread = float(max(after) - min(after))
    return {"ns": [int(n) for n in ns_past], "before": [b for b, _ in past], "after": after,
            "in_range_spacing": spacing, "spread": spread, "lost": bool(spread < LOST * spacing)}


def _agreement(per_n):
    """(runs within one symbol of the network's, runs equal to it) over the rows."""
    near = sum(r["predicted"] is not None and r["network"] is not None and abs(r["predicted"] - r["network"]) <= 1
               for r in per_n)
    same = sum(r["predicted"] == r["network"] for r in per_n)
    return near, same


def phase_runs(maps, lang, trained, phase, candidates, ns, partners=()):
    """The counter of one phase and its runs: the candidate whose map predicts the network's runs best.

    ``candidates`` is a list of (label, index, decision) for units whose
    threshold separates the switch in the training range about as well as
    any. Each is tried alone and, where alone it misses a run by more than
    one symbol, with each unit of ``partners`` (label, index) beside it. The
    best agreement wins, then the fewer units. Returns a dict: phase, unit,
    index, with (the partner's label or None), threshold, direction, runs
    (per n: needed, network, then, predicted, entry), near and same.
    """
    mult = [1] + list(lang.mult)
    cap = 4 * mult[phase] * max(ns) + 4
    own = {n: run_length(maps, mult, n, phase, cap) for n in ns}
    states = phase_states(trained, phase)
    tries = [(c, None) for c in candidates] + [(c, p) for c in candidates for p in partners if p[1] != c[1]]
    best = None
    for (label, index, decision), partner in tries:
        if partner is not None and best is not None and best["near"] == len(ns):
            break
        indices = [index] + ([] if partner is None else [partner[1]])
        counter = CounterMap(maps, phase, indices, states)
        per_n = []
        for n in ns:
            network, then, seen = own[n]
            entry = seen[0, indices]
            per_n.append({"n": int(n), "needed": mult[phase] * int(n), "network": network,
                          "then": lang.symbols[then], "entry": [float(v) for v in entry],
                          "predicted": predict_run(entry, counter, decision, cap)})
        near, same = _agreement(per_n)
        if best is None or (near, same) > (best["near"], best["same"]):
            best = {"phase": lang.symbols[phase], "unit": label, "index": index,
                    "with": None if partner is None else partner[0], "threshold": decision["threshold"],
                    "direction": decision["direction"], "runs": per_n, "near": near, "same": same}
    best["cap"] = _cap(best["runs"], lang.length)
    if best["cap"] is not None:
        ns_past = [n for n in ns if n >= best["cap"]["from"] and n > lang.length]
        ns_in = [n for n in ns if n <= lang.length]
        best["collapse"] = collapse(maps, mult, phase, best["index"], ns_in, ns_past)
    return best


def _cap(per_n, length):
    """Where the network's run stops growing: {from, length} when every n from ``from`` on (two or more, past
    the training range at the end) gets the same run, shorter than needed; else None."""
    tail = [r for r in per_n if r["n"] > length]
    if len(tail) < 2 or tail[-1]["network"] is None or tail[-1]["network"] >= tail[-1]["needed"]:
        return None
    value = tail[-1]["network"]
    start = len(per_n) - 1
    while start > 0 and per_n[start - 1]["network"] == value:
        start -= 1
    if len(per_n) - start < 2:
        return None
    return {"from": per_n[start]["n"], "length": value}
