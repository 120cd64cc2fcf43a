"""Fixed and slow points of each symbol's map, found from many starting points, with their linearisation.

For a map f, a fixed point h* has f(h*) = h*; a slow point is a local
minimum of q(h) = |f(h) - h|^2 / 2 that is small but not zero, where the
state moves little. Both are found by Levenberg-Marquardt steps on
F(h) = f(h) - h from many starts (a grid over the state space and states
the network visits), in the manner of Sussillo & Barak (2013). A point is
kept as fixed only where |F(h*)| < FIXED_TOL. Its type comes from the
eigenvalues of the Jacobian of f there: attracting (all |lambda| < 1),
repelling (all > 1) or a saddle (some of each); "oscillating" is added where
an eigenvalue of size at least OSCILLATES is negative or complex, since the
state then flips or turns as it approaches or leaves.
"""
import numpy as np

FIXED_TOL = 1e-8  # |f(h) - h| below this counts as a fixed point
SLOW_TOL = 0.05  # a local minimum of |f(h) - h| below this (and not fixed) counts as a slow point
SAME = 1e-5  # fixed points closer than this are the same point
SAME_SLOW = 1e-2  # slow points closer than this are the same point
UNIT_CIRCLE = 1e-9  # |lambda| within this of 1 counts as marginal
OSCILLATES = 0.1  # a negative or complex eigenvalue smaller than this dies out in a step and is not called oscillating


def _solve(maps, a, start, iters=200):
    """Levenberg-Marquardt on F(h) = f_a(h) - h from ``start``; returns (h, |F(h)|)."""
    h = np.asarray(start, dtype=np.float64)
    eye = np.eye(len(h))
    residual = maps.step(h, a) - h
    mu = 1e-3
    for _ in range(iters):
        norm = np.linalg.norm(residual)
        if norm < 1e-13:
            break
        jac = maps.jacobian(h, a) - eye
        grad = jac.T @ residual
        delta = np.linalg.solve(jac.T @ jac + mu * eye, -grad)
        trial = h + delta
        trial_residual = maps.step(trial, a) - trial
        if np.linalg.norm(trial_residual) < norm:
            h, residual, mu = trial, trial_residual, max(mu / 3, 1e-12)
            if np.linalg.norm(delta) < 1e-15:
                break
        else:
            mu *= 4
            if mu > 1e8:
                break
    return h, float(np.linalg.norm(residual))


def point_type(eigenvalues):
    """The type of a fixed point from its Jacobian's eigenvalues (see the module's docstring)."""
    size = np.abs(eigenvalues)
    if np.all(size < 1 - UNIT_CIRCLE):
        kind = "attracting"
    elif np.all(size > 1 + UNIT_CIRCLE):
        kind = "repelling"
    elif np.any(np.abs(size - 1) <= UNIT_CIRCLE):
        kind = "marginal"
    else:
        kind = "saddle"
    turns = (np.abs(np.imag(eigenvalues)) > 1e-9) | (np.real(eigenvalues) < 0)
    return kind + (", oscillating" if np.any(turns & (size >= OSCILLATES)) else "")


def _starts(maps, visited, rng, count):
    """Starting points: a grid over [-1, 1] per hidden unit (SRN) and states the network visits."""
    starts = []
    if maps.kind == "srn" and maps.size <= 3:
        axis = np.linspace(-0.95, 0.95, 7 if maps.size == 2 else 5)
        starts += [np.array(p) for p in np.array(np.meshgrid(*[axis] * maps.size)).reshape(maps.size, -1).T]
    if len(visited):
        pick = rng.choice(len(visited), size=min(count, len(visited)), replace=False)
        starts += list(np.asarray(visited)[pick])
    return starts


def _dedupe(points, tol):
    kept = []
    for p in sorted(points, key=lambda p: p["speed"]):
        if all(np.linalg.norm(p["state"] - q["state"]) > tol for q in kept):
            kept.append(p)
    return kept


def find_points(maps, a, visited, seed=0, count=40):
    """Fixed and slow points of the map of symbol ``a``: (fixed, slow), each a list of dicts.

    Each dict: state (array), speed (|f(h) - h|), eigenvalues (of the
    Jacobian of f), norm (its largest singular value: the most one step can
    stretch a small distance), type, and for slow points only the speed. Fixed points
    are sorted by how many starts reached them (most first).
    """
    rng = np.random.default_rng([seed, a])
    found = []
    for start in _starts(maps, visited, rng, count):
        h, speed = _solve(maps, a, start)
        if np.all(np.isfinite(h)):
            found.append({"state": h, "speed": speed})
    fixed = [p for p in found if p["speed"] < FIXED_TOL]
    slow = [p for p in found if FIXED_TOL <= p["speed"] < SLOW_TOL]
    fixed = _dedupe(fixed, SAME)
    for p in fixed:
        p["eigenvalues"] = np.linalg.eigvals(maps.jacobian(p["state"], a))
        p["type"] = point_type(p["eigenvalues"])
        p["norm"] = float(np.linalg.norm(maps.jacobian(p["state"], a), 2))
        p["reached"] = sum(np.linalg.norm(q["state"] - p["state"]) <= SAME for q in found if q["speed"] < FIXED_TOL)
    fixed.sort(key=lambda p: -p["reached"])
    slow = [p for p in _dedupe(slow, SAME_SLOW) if all(np.linalg.norm(p["state"] - q["state"]) > SAME_SLOW
                                                        for q in fixed)]
    return fixed, slow


def as_record(point):
    """A fixed or slow point as plain JSON values (eigenvalues as [re, im] pairs, by decreasing size)."""
    out = {"state": [float(v) for v in point["state"]], "speed": float(point["speed"])}
    if "eigenvalues" in point:
        eig = sorted(point["eigenvalues"], key=lambda z: -abs(z))
        out.update(eigenvalues=[[float(np.real(z)), float(np.imag(z))] for z in eig],
                   largest=float(abs(eig[0])), type=point["type"], reached=int(point["reached"]))
        if "norm" in point:
            out["norm"] = float(point["norm"])
    return out
