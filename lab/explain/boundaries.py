"""Where the output's prediction switches: lines (2 hidden units) or planes (3) in the hidden space.

The output is softmax(V h + c), so symbols x and y are equally likely where
(V_x - V_y) . h + (c_x - c_y) = 0: a straight line for two hidden units, a
plane for three. The network predicts x on the side where that expression
is positive (when x and y are the two most likely symbols there).
"""
import numpy as np


def boundaries(maps, symbols):
    """Every pair's boundary: a list of dicts (pair, normal, offset), x's side where normal . h + offset > 0."""
    rows = []
    for x in range(len(symbols)):
        for y in range(x + 1, len(symbols)):
            normal = maps.v[x] - maps.v[y]
            rows.append({"pair": [symbols[x], symbols[y]], "normal": [float(w) for w in normal],
                         "offset": float(maps.c[x] - maps.c[y])})
    return rows


def side(boundary, hidden):
    """Which symbol of the pair is favoured at hidden vector(s) ``hidden``: array of the two symbols."""
    value = np.asarray(hidden) @ np.array(boundary["normal"]) + boundary["offset"]
    return np.where(value > 0, boundary["pair"][0], boundary["pair"][1])


def line_points(boundary, box=(-1.05, 1.05)):
    """Two ends of a 2-unit boundary line clipped to the square ``box``; None if it misses the square."""
    (a, b), c = boundary["normal"], boundary["offset"]
    lo, hi = box
    ends = []
    for x in (lo, hi):  # crossings of the vertical sides
        if abs(b) > 1e-12 and lo <= -(a * x + c) / b <= hi:
            ends.append((x, -(a * x + c) / b))
    for y in (lo, hi):  # crossings of the horizontal sides
        if abs(a) > 1e-12 and lo <= -(b * y + c) / a <= hi:
            ends.append((-(b * y + c) / a, y))
    if len(ends) < 2:
        return None
    ends = sorted(set((round(x, 12), round(y, 12)) for x, y in ends))
    return ends[0], ends[-1]


def state_sides(maps, runs, names, symbols):
    """Per language state: its mean hidden vector, the symbol the output predicts there, and each pair's side.

    ``names`` gives a StringRun's language state name after each input
    (e.g. "A3", "b5"). ``expects`` is the symbol that must follow a state
    whose next symbol is certain (None after an A, where it is not).
    """
    groups, expects = {}, {}
    for run in runs:
        for t, name in enumerate(names(run)):
            groups.setdefault(name, []).append(maps.hidden(run.states[t]))
            if run.deterministic[t]:
                expects.setdefault(name, set()).add(symbols[int(run.targets[t])])
    rows = []
    for name, points in groups.items():
        mean = np.mean(points, axis=0)
        predicted = symbols[int(np.argmax(maps.logits(mean)))]
        certain = expects.get(name)
        rows.append({"state": name, "mean_hidden": [float(v) for v in mean], "predicts": predicted,
                     "expects": next(iter(certain)) if certain and len(certain) == 1 else None,
                     "sides": {"|".join(b["pair"]): str(side(b, mean)) for b in boundaries(maps, symbols)}})
    return rows
