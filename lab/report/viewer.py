"""The report's 3-D views that turn in the browser: the states of one string of each n, from a seq_explain record.

``views(analysis)`` gives one view of the hidden units and, for an LSTM,
one of the cell units: the points are the states after each symbol of the
strings n = 1 .. the training n (the record's trajectories), each
named and coloured by the language's state: one hue per phase (A red, B
green, C blue), lighter the more of the string is still to come. The
drawing itself is viewer.js, written once into the page.
"""
import colorsys
import os

from lab.recurrent.languages import make_language
from lab.recurrent.states import LanguageStates
from lab.report.checks import trajectories_problem

PHASE_HUES = (0.0, 0.33, 0.61, 0.08, 0.78)  # A red, B green, C blue, then orange and purple
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "viewer.js")


def script():
    """viewer.js, for the page to hold once."""
    with open(SCRIPT, encoding="utf-8") as handle:
        return handle.read()


def colour(phase, rank, ranks):
    """A hex colour: the phase's hue, darker for the first states of the phase (rank 0) and lighter after."""
    light = 0.3 + 0.45 * (rank / max(ranks - 1, 1))
    r, g, b = colorsys.hls_to_rgb(PHASE_HUES[phase % len(PHASE_HUES)], light, 0.75)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _named_points(analysis):
    """Every trajectory's states with the language state's key and name at each."""
    lang = make_language(analysis["lang"], length=analysis["length"])
    problem = trajectories_problem("the analysis", analysis, lang)
    if problem:  # the report checks the record first (checks.explanation_problem); this is the last guard
        raise ValueError(problem)
    namer = LanguageStates(lang)
    rows = []
    for t in [t for t in analysis["trajectories"] if t["n"] <= analysis["length"]]:
        keys = namer.string_keys(t["inputs"])
        rows += [(t["n"], state, key, namer.name(key)) for state, key in zip(t["states"], keys)]
    return rows, namer


def _colours(rows, namer):
    """A colour per name: by phase (the key's first item), shaded by the name's order within its phase."""
    by_phase = {}
    for _, _, key, name in rows:
        by_phase.setdefault(key[0], {})[name] = namer.order(key)
    table = {}
    for phase, names in by_phase.items():
        ordered = sorted(names, key=names.get)
        for rank, name in enumerate(ordered):
            table[name] = colour(phase, rank, len(ordered))
    return table


def views(analysis):
    """The 3-D views of one analysis: a list of dicts (title, axes, points, colours, names, paths, legend)."""
    rows, namer = _named_points(analysis)
    table = _colours(rows, namer)
    hid = analysis["hid"]
    parts = [("hidden units", "hidden unit", 0)]
    if analysis["model"] == "lstm":
        parts.append(("cell units", "cell unit", hid))
    out = []
    for title, unit, offset in parts:
        if hid < 3:
            continue
        points = [[float(v) for v in state[offset:offset + 3]] for _, state, _, _ in rows]
        paths, index = [], 0
        for t in [t for t in analysis["trajectories"] if t["n"] <= analysis["length"]]:
            paths.append(list(range(index, index + len(t["states"]))))
            index += len(t["states"])
        legend = sorted({(name, table[name], (key[0], namer.order(key))) for _, _, key, name in rows},
                        key=lambda x: x[2])
        out.append({"title": title, "axes": [f"{unit} {k}" for k in range(3)], "points": points,
                    "colours": [table[name] for *_, name in rows], "names": [name for *_, name in rows],
                    "paths": paths, "legend": [[name, c] for name, c, _ in legend]})
    return out
