"""Legible labels: in the machine scatter (seq_fsm.py's _fsm.jpg) and the 3-D views (seq_plot.py's _3d_*.jpg).

The scatter is drawn for a machine built by hand from synthetic points laid
out like a trained SRN's on a^n b^2n: the A's along the top, the B's along
the bottom with b2..b7 crowded into one corner (closer together than a name
is wide), and b0, b1 and b2 each split into two clusters that the machine
merges back into one state. Every text drawn (names, arrow labels, title,
axis and tick labels, legend) must keep clear of every other, measured with
the renderer's own text extents, and each merged state must be named once.
The 3-D views get points spread over a cube and the 36 state names of
a^n b^2n c^3n; their tick labels must touch no other text.
"""
import numpy as np
import pytest
from matplotlib.lines import Line2D

from anb2n import AnbnLanguage
from lab.common.figures import pyplot
from lab.machines import extract as fx
from lab.machines.drawing import scatter_figure
from lab.machines.naming import state_names
from lab.recurrent import plots
from lab.recurrent.states import LanguageStates, state_colours

SPOTS = {"A1": (-1.0, 0.8), "A2": (-0.95, 0.97), "A3": (-0.83, 0.97), "A4": (-0.7, 0.97),
         "b0": [(-1.0, -1.0), (-0.8, -1.0)], "b1": [(-0.05, -1.0), (0.15, -1.0)], "b2": [(0.5, -1.0), (0.56, -1.02)],
         "b3": (0.7, -1.0), "b4": (0.76, -0.99), "b5": (0.82, -1.0), "b6": (0.88, -0.99), "b7": (0.94, -1.0)}
START = (0.3, -0.72)


def srn_like(count=200, seed=0):
    """Points, raw machine, merged machine and names, as seq_fsm.py would have them, for the SPOTS layout."""
    lang = AnbnLanguage((2,), length=4)
    rng = np.random.default_rng(seed)
    samples = [lang.get_sequence(rng) for _ in range(count)]
    symbol = np.concatenate([s[0][:-1] for s in samples])
    first = np.concatenate([np.arange(len(s[2])) == 0 for s in samples])
    parity = np.concatenate([np.full(len(s[2]), i % 2) for i, s in enumerate(samples)])
    namer = LanguageStates(lang)
    keys = namer.keys(symbol, first, np.concatenate([s[2] for s in samples]))
    spots = [np.asarray(START)]
    cluster = {}
    for name, where in SPOTS.items():
        for copy, spot in enumerate(where if isinstance(where, list) else [where]):
            cluster[(name, copy)] = len(spots)
            spots.append(np.asarray(spot))
    split = {name for name, where in SPOTS.items() if isinstance(where, list)}
    labels = np.array([cluster[(n, p if n in split else 0)] for n, p in zip(map(namer.name, keys), parity)])
    features = np.vstack(spots)[labels] + rng.normal(0, 0.004, (len(labels), 2))
    output = np.concatenate([s[1] for s in samples])
    raw = fx.build_machine(labels, 0, symbol, first, output, len(spots), 2, np.vstack(spots))
    raw_labels = raw.assign(features)
    merged, block = fx.minimize(raw)
    names, _, _ = state_names(merged, block[raw_labels], keys, namer)
    return {"features": features, "labels": raw_labels, "raw": raw, "machine": merged, "block": block,
            "names": names}


def drawn_texts(fig):
    """Every non-empty text the figure draws, with its extent in pixels (the figure drawn first).

    Tick labels only for the ticks inside their axis's range (the others
    are not drawn); a 3-D axis's labels as it placed them while drawing.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for legend in fig.legends:
        texts += [legend.get_title()] + list(legend.get_texts())
    for ax in fig.axes:
        axes = [ax.xaxis, ax.yaxis] + ([ax.zaxis] if hasattr(ax, "zaxis") else [])
        texts += [ax.title] + list(ax.texts) + [axis.label for axis in axes]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
        for axis in axes:
            low, high = sorted(axis.get_view_interval())
            locs = axis.get_majorticklocs()
            texts += [tick.label1 for loc, tick in zip(locs, axis.get_major_ticks(len(locs))) if low <= loc <= high]
    shown = [t for t in texts if t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in shown]


def overlapping(texts):
    """The pairs of texts whose extents overlap."""
    return [(a, b) for i, (a, p) in enumerate(texts) for b, q in texts[i + 1:]
            if p.x0 < q.x1 and q.x0 < p.x1 and p.y0 < q.y1 and q.y0 < p.y1]


@pytest.fixture(scope="module")
def srn_scatter():
    got = srn_like()
    plt = pyplot(False)
    fig = scatter_figure(plt, got["features"], got["labels"], got["machine"], np.asarray(START), "AB",
                         "anb2n_srn2-like", "hidden", got["names"], (got["raw"], got["block"]))
    yield got, fig, drawn_texts(fig)
    plt.close(fig)


def test_the_synthetic_machine_merges_the_split_clusters(srn_scatter):
    got, _, _ = srn_scatter
    assert got["raw"].num_states == 16 and got["machine"].num_states == 13
    assert sorted(got["names"]) == sorted(["start", "A1", "A2", "A3", "A4"] + [f"b{k}" for k in range(8)])
    for name in ("b0", "b1", "b2"):
        assert (got["block"] == got["names"].index(name)).sum() == 2


def test_scatter_names_each_merged_state_once(srn_scatter):
    got, fig, _ = srn_scatter
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert all(shown.count(name) == 1 for name in got["names"]), shown


def test_scatter_labels_do_not_overlap(srn_scatter):
    got, fig, texts = srn_scatter
    assert not overlapping(texts)
    # the corner is crowded: the names there cannot all sit on their clusters, so some are joined by lines
    px = fig.axes[0].transData.transform([SPOTS[f"b{k}"] for k in range(3, 8)])
    widest = max(box.width for text, box in texts if text in got["names"])
    assert np.diff(px[:, 0]).max() < widest
    leaders = [line for line in fig.axes[0].lines if isinstance(line, Line2D) and len(line.get_xdata()) == 2]
    assert len(leaders) >= 3 + 3  # a second cluster each for b0, b1, b2, and names moved out of the corner


def lstm_like_names():
    """The 36 language states of a^n b^2n c^3n (n <= 4) that seq_plot.py's points carry, as point_names names them."""
    return (["A1", "A2", "A3", "A4"] + [f"c{k}" for k in range(12)]
            + [f"b{j}c{3 * n}" for n in range(1, 5) for j in range(2 * n)])


@pytest.mark.parametrize("view", sorted(plots.VIEWS))
def test_3d_view_tick_labels_are_few_upright_and_apart(view, no_display):
    plt = pyplot(False)
    rng = np.random.default_rng(1)
    names = lstm_like_names()
    points, states = rng.uniform(-1, 1, (400, 3)) * [1.0, 1.0, 4.0], rng.integers(0, len(names), 400)
    fig = plots.cube_figure(plt, points, states, view, title="anb2nc3n lstm3 hidden units", names=names)
    texts = drawn_texts(fig)
    assert not overlapping(texts), overlapping(texts)
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        labelled = [t for t in axis.get_major_ticks(len(axis.get_majorticklocs())) if t.label1.get_text()]
        assert len(labelled) <= 3 and all(t.label1.get_rotation() == 0 for t in labelled)
    legend = fig.legends[0]
    assert sorted(t.get_text() for t in legend.get_texts() if t.get_text()) == sorted(names)  # each name once
    plt.close(fig)


def test_state_colours_give_each_phase_its_hue_darkening_with_the_count():
    names = lstm_like_names()
    colours = np.array(state_colours(names))[:, :3]
    hue = {"A": 0, "b": 1, "c": 2}  # red, green, blue: the channel that leads
    for name, rgb in zip(names, colours):
        assert rgb.argmax() == hue[name[0]], name
    brightness = dict(zip(names, colours.sum(1)))
    assert brightness["A1"] > brightness["A2"] > brightness["A3"] > brightness["A4"]
    assert brightness["c0"] > brightness["c5"] > brightness["c11"]
    assert brightness["b0c3"] > brightness["b3c12"]
