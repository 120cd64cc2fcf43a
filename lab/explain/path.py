"""An SRN's count along one string: the step multipliers, the slow point the count passes, the solution's kind.

Along the longest string of the training range, for each phase, the
counter unit's step (its change on reading the symbol) and its multiplier
(this step over the one before: above 1 the map stretches, below 1 it
squeezes), with the Jacobian of the map at the state the symbol is read
from (its largest singular value bounds how much one step can stretch a
small difference; its eigenvalues say how it turns).

Slow point. From every state of a phase, Levenberg-Marquardt on
|f(h) - h| (lab.explain.fixed_points) finds the nearest local minimum; it is
a slow point of that phase when the map moves it less than SLOW_SHARE x the
median step the strings make under that map in the training range (a
relative test: a map that moves far each step has a higher bar). The one
nearest the path is where the phase's count is kept.

Kind. The solution is "oscillating" when the counter's steps change sign
in at least half of the phase's steps (the state flips around a point each
symbol, as in Rodriguez, Wiles & Elman 1999), else "monotone" (it moves
one way through a bottleneck). For an oscillating solution of a^n b^(m n),
n A's contract the distance to the A map's fixed point by |lambda_A|^n and
m n B's must stretch it back by |lambda_B|^(m n): the rate-matching product
|lambda_A| |lambda_B|^m is 1 for a perfect counter, and the B's per A the
eigenvalues predict are ln(1/|lambda_A|) / ln|lambda_B|.
"""
import numpy as np

from lab.explain import fixed_points

SLOW_SHARE = 1.0  # a slow point moves the state less than this share of the map's median step


def median_steps(maps, runs, symbols):
    """Per symbol, the median length of one step of the state under its map, over the given runs."""
    out = {}
    for a, symbol in enumerate(symbols):
        lengths = []
        for run in runs:
            before = np.vstack([maps.initial[None], run.states[:-1]])
            where = run.inputs == a
            lengths += list(np.linalg.norm(run.states[where] - before[where], axis=1))
        out[symbol] = float(np.median(lengths)) if lengths else 0.0
    return out


def path_steps(maps, run, phase, index):
    """The counter's value, step and multiplier at each symbol of ``phase`` in ``run``, with the Jacobian's
    largest singular value and eigenvalues (by decreasing size) at the state the symbol is read from."""
    before = np.vstack([maps.initial[None], run.states[:-1]])
    rows, last = [], None
    for t in np.nonzero(run.phase == phase)[0]:
        step = float(run.states[t, index] - before[t, index])
        jac = maps.jacobian(before[t], int(run.inputs[t]))
        eig = sorted(np.linalg.eigvals(jac), key=lambda z: -abs(z))
        rows.append({"count": int(run.step[t]), "value": float(run.states[t, index]), "step": step,
                     "multiplier": None if last is None or abs(last) < 1e-12 else step / last,
                     "norm": float(np.linalg.norm(jac, 2)),
                     "eigenvalues": [[float(np.real(z)), float(np.imag(z))] for z in eig]})
        last = step
    return rows


def slow_point(maps, run, phase, tolerance):
    """The slow (or fixed) point nearest the path of ``phase`` in ``run``, as a dict, or None when none
    of the local minima of |f(h) - h| reached from the path's states is slower than ``tolerance``."""
    path = run.states[run.phase == phase]
    found = []
    for start in path:
        h, speed = fixed_points._solve(maps, phase, start)
        if np.all(np.isfinite(h)) and speed < tolerance:
            found.append((float(np.min(np.linalg.norm(path - h, axis=1))), h, speed))
    if not found:
        return None
    distance, h, speed = min(found, key=lambda f: f[0])
    jac = maps.jacobian(h, phase)
    eig = sorted(np.linalg.eigvals(jac), key=lambda z: -abs(z))
    return {"state": [float(v) for v in h], "speed": float(speed), "tolerance": float(tolerance),
            "distance": distance, "norm": float(np.linalg.norm(jac, 2)),
            "eigenvalues": [[float(np.real(z)), float(np.imag(z))] for z in eig]}


def kind(steps):
    """"oscillating" when the steps change sign in at least half of the consecutive pairs, else "monotone"."""
    signs = np.sign([s["step"] for s in steps])
    flips = np.sum(signs[1:] * signs[:-1] < 0)
    return "oscillating" if len(signs) > 1 and flips >= (len(signs) - 1) / 2 else "monotone"


def rate_matching(a_point, b_point, mult):
    """For an oscillating a^n b^(m n) solution: the product |lambda_A| |lambda_B|^m and the B's per A it predicts.

    lambda_A is the A point's largest eigenvalue inside the unit circle (the
    contraction), lambda_B the B point's largest (the expansion). None when
    either is missing.
    """
    if a_point is None or b_point is None:
        return None
    inside = [np.hypot(*z) for z in a_point["eigenvalues"] if np.hypot(*z) < 1]
    outside = np.hypot(*b_point["eigenvalues"][0])
    if not inside or outside <= 1 or max(inside) <= 0:
        return None
    lam_a = max(inside)
    return {"lambda_a": float(lam_a), "lambda_b": float(outside), "product": float(lam_a * outside ** mult),
            "per_a": float(np.log(1 / lam_a) / np.log(outside)), "mult": int(mult)}


def mechanism(maps, runs, symbols, mult, counters_by_phase):
    """The SRN's count along the longest string of ``runs``: per phase its steps and slow point, the kind
    and (oscillating, two phases) the rate matching. ``counters_by_phase`` maps a phase index to the
    counter unit's index."""
    run = max(runs, key=lambda r: r.n)
    medians = median_steps(maps, runs, symbols)
    phases = []
    for phase, symbol in enumerate(symbols):
        index = counters_by_phase.get(phase, counters_by_phase.get(1, 0))
        phases.append({"phase": symbol, "index": int(index), "median_step": medians[symbol],
                       "steps": path_steps(maps, run, phase, index),
                       "slow": slow_point(maps, run, phase, SLOW_SHARE * medians[symbol])})
    counting = phases[1]
    out = {"n": int(run.n), "phases": phases, "kind": kind(counting["steps"][1:])}
    if out["kind"] == "oscillating" and len(symbols) == 2:
        out["rate_matching"] = rate_matching(phases[0]["slow"], counting["slow"], mult[0])
    return out
