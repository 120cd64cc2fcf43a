"""Tests for how a machine is named and drawn (states.LanguageStates, naming.state_names, drawing.graph_figure).

Synthetic trajectories put the "network state" on a spot of its own for
each of the language's states (a^n b^2n c^3n needs n in the B phase too,
so the spots follow LanguageStates.keys). The machine read out of them is
the language's own, which fixes the names; the graph of the LSTM-3-sized
machine (34 states after merging) must have no two labels overlapping, no
label on a circle and no arrow through a circle.
"""

import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path

from lab.machines import extract as fx
from lab.machines.naming import state_names, state_slots
from lab.machines.text import machine_dot, machine_table
from lab.machines.validation import choose_machine
from lab.recurrent.settings import MachineSettings
from lab.recurrent.states import LanguageStates, point_names
from anb2n import AnbnLanguage
from lab.machines.text import edge_labels
from lab.machines.drawing import graph_figure, scatter_figure
from lab.machines.layout import graph_layout
from reber import ReberLanguage
from lab.common.figures import pyplot


def synthetic(lang, seed, count):
    """Trajectories whose state is a fixed spot per language state (plus noise); outputs the true probabilities.

    Like test_seq_fsm.synthetic, but the spots are indexed by the language
    state keys, which tell apart the B's of different n in a^n b^2n c^3n.
    """
    rng = np.random.default_rng(seed)
    samples = [lang.get_sequence(rng) for _ in range(count)]
    state = np.concatenate([s[2] for s in samples])
    first = np.concatenate([np.arange(len(s[2])) == 0 for s in samples])
    symbol = np.concatenate([s[0][:-1] for s in samples])
    prob = np.concatenate([s[1] for s in samples])
    namer = LanguageStates(lang)
    keys = namer.keys(symbol, first, state)
    spot = {k: np.array([i % 7, i // 7], dtype=float) * 3 for i, k in enumerate(sorted(set(keys), key=namer.order))}
    return {"features": np.array([spot[k] for k in keys]) + rng.normal(0, 0.01, (len(keys), 2)),
            "start": np.array([-3.0, -3.0]), "symbol": symbol, "target": np.concatenate([s[0][1:] for s in samples]),
            "first": first, "prob": prob, "output": prob, "state": state}, namer, keys


def merged_machine(lang, count=300, states=None):
    """The machine read out of synthetic trajectories, merged and named as seq_fsm.py does (states: as --states)."""
    (fit, namer, keys), (select, _, _) = synthetic(lang, 0, count), synthetic(lang, 1, count)
    args = MachineSettings(states=states, max_states=60, seed=0, tv=0.1)
    machine, labels, result, met = choose_machine(fit, select, lang, args, log=lambda *a: None)
    assert met and result["machine_right"] == result["det"]
    merged, block = fx.minimize(machine)
    names, major, shares = state_names(merged, block[labels], keys, namer)
    return {"raw": machine, "labels": labels, "machine": merged, "block": block, "names": names, "keys": major,
            "shares": shares, "slots": state_slots(names, major, namer), "fit": fit, "namer": namer}


@pytest.fixture(scope="module")
def lstm3_like():
    """a^n b^2n c^3n with n <= 4, as an LSTM with 3 units gives it: 37 states, 34 after merging."""
    return merged_machine(AnbnLanguage((2, 3), length=4), count=200, states=37)  # the sweep finds 37 too


def test_anb2n_states_get_the_language_names():
    got = merged_machine(AnbnLanguage((2,), length=4))
    assert got["raw"].num_states == got["machine"].num_states == 13  # the minimum, with a start state
    assert sorted(got["names"]) == sorted(["start", "A1", "A2", "A3", "A4"] + [f"b{k}" for k in range(8)])
    assert got["names"][got["machine"].initial] == "start" and min(got["shares"]) == 1.0
    names, nxt = got["names"], got["machine"].next_state
    follow = {(names[s], "AB"[a]): names[t] for s in range(13) for a, t in enumerate(nxt[s]) if t >= 0}
    assert follow[("start", "A")] == "A1" and follow[("A2", "B")] == "b3" and follow[("b0", "A")] == "A1"
    assert all(follow[(f"b{k}", "B")] == f"b{k - 1}" for k in range(1, 8))
    table = machine_table(got["machine"], "AB", got["names"], got["shares"])
    assert "A2 (" in table and table.splitlines()[1].split()[:2] == ["0*", "start"]
    dot = machine_dot(got["machine"], "AB", "x", got["names"], graph_layout(got["machine"], got["slots"]))
    assert 'label="A1\\nA/B"' in dot and 'label="b0\\nA"' in dot


def test_lstm3_like_machine_merges_to_34_named_states(lstm3_like):
    names = lstm3_like["names"]
    assert lstm3_like["raw"].num_states == 37 and lstm3_like["machine"].num_states == 34
    assert len(set(names)) == 34 and not any(name.endswith("'") for name in names)
    # after the last B of n = 1, 2, 3 the machine is where a longer string is after as many C's to come
    for k in (3, 6, 9):
        assert (f"b0c{k}" in names) != (f"c{k}" in names)
    expected = {"start", "A1", "A2", "A3", "A4"} | {f"c{k}" for k in range(9)} | {"c10", "c11", "b0c12"}
    expected |= {f"b{j}c{3 * n}" for n in range(1, 5) for j in range(1, 2 * n)}
    assert expected <= set(names)
    assert all(slot is not None for slot in lstm3_like["slots"])


def test_reber_states_are_named_by_the_grammar_node():
    got = merged_machine(ReberLanguage())
    assert sorted(got["names"]) == ["n1", "n2", "n3", "n4", "n5", "n6", "start"]
    names = LanguageStates(ReberLanguage(embed=True))
    assert [names.name(("node", s)) for s in (1, 10, 13, 20, 27, 30)] == ["begin", "T", "T.n3", "P", "P.n7", "end"]


def test_shared_majority_names_get_primes():
    got = merged_machine(AnbnLanguage((2,), length=3), count=100)
    names = np.array(got["names"])
    a1, b0, b1 = (got["names"].index(n) for n in ("A1", "b0", "b1"))
    labels = got["block"][got["labels"]].copy()
    labels[labels == b0] = b1  # the b0 points join b1's ...
    moved = np.nonzero(labels == a1)[0]
    labels[moved[: 2 * len(moved) // 5]] = b0  # ... and 40% of A1's take their place
    keys = got["namer"].keys(got["fit"]["symbol"], got["fit"]["first"], got["fit"]["state"])
    renamed, _, shares = state_names(got["machine"], labels, keys, got["namer"])
    assert (renamed[a1], renamed[b0], renamed[b1]) == ("A1", "A1'", "b1") and "b0" not in renamed
    assert shares[a1] == shares[b0] == 1.0 and 0.5 < shares[b1] < 1.0
    assert [n for i, n in enumerate(renamed) if i not in (a1, b0, b1)] == [n for i, n in enumerate(names)
                                                                           if i not in (a1, b0, b1)]


def test_colour_names_agree_with_the_machine_names():
    lang = AnbnLanguage((2,), length=4)
    fit, _, _ = synthetic(lang, 0, 50)
    classes, names = point_names(lang, fit["symbol"], fit["first"], fit["state"])
    assert names == ["A1", "A2", "A3", "A4"] + [f"b{k}" for k in range(8)]  # by the language's state number
    shown, state = np.array(names)[classes], fit["state"]
    assert (shown == [f"A{s}" if s <= 4 else f"b{s - 5}" for s in state]).all()  # b: state - length - 1


def boxes_overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_graph_of_the_lstm3_machine_has_no_overlaps(lstm3_like, no_display):
    plt = pyplot(False)
    machine = lstm3_like["machine"]
    fig = graph_figure(plt, machine, "ABC", "lstm3-like", lstm3_like["names"],
                       graph_layout(machine, lstm3_like["slots"]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    texts = [t for t in fig.texts + ax.texts if t.get_text().strip()]
    edges = edge_labels(machine, "ABC")
    assert len(texts) == 1 + 34 + len(edges)  # the title, a name in each circle, a label per arrow
    extents = [t.get_window_extent(renderer) for t in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert not boxes_overlap(extents[i], extents[j]), (texts[i].get_text(), texts[j].get_text())
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    centres = np.array([c.center for c in circles])
    radius = circles[0].radius
    assert len(circles) == 34
    # the arrow labels keep off every circle (the names sit inside their own)
    to_data = ax.transData.inverted()
    for text, extent in zip(texts, extents):
        if text.get_bbox_patch() is None:
            continue
        (x0, y0), (x1, y1) = to_data.transform([[extent.x0, extent.y0], [extent.x1, extent.y1]])
        gap = np.hypot(centres[:, 0] - np.clip(centres[:, 0], x0, x1), centres[:, 1] - np.clip(centres[:, 1], y0, y1))
        assert gap.min() >= radius, text.get_text()
    # no arrow enters a circle: its line touches at most the edges of the two it joins
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(edges) + 1  # one per pair of states joined, and the one into the start state
    for arrow in arrows:
        path = arrow.get_path()
        pieces = [seg for seg, code in path.iter_segments(simplify=False) if code != Path.CLOSEPOLY]
        points = np.array([seg[-2:] for seg in pieces])
        dense = np.vstack([np.linspace(a, b, 20) for a, b in zip(points[:-1], points[1:])])
        closest = np.linalg.norm(dense[:, None] - centres[None], axis=2).min(0)
        assert (closest >= radius - 0.01).all(), closest.min()
    plt.close(fig)


def test_scatter_names_the_merged_states(lstm3_like, no_display):
    plt = pyplot(False)
    fit = lstm3_like["fit"]
    fig = scatter_figure(plt, fit["features"], lstm3_like["labels"], lstm3_like["machine"], fit["start"], "ABC",
                         "t", "hidden", lstm3_like["names"], (lstm3_like["raw"], lstm3_like["block"]))
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert all(shown.count(name) == 1 for name in lstm3_like["names"])  # 37 clusters, 34 names: each once
    plt.close(fig)
