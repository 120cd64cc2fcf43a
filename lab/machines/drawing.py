"""Figures for an extracted machine: states in the network's state space, the machine as a graph, LSTM context units.

Each function takes the ``plt`` from lab.common.figures.pyplot and returns a
new figure, which the caller saves with save_figure. Where things go (the
graph's positions, arrow paths and label places; the scatter's outlines and
label places) comes from lab.machines.layout: this module only measures the
texts and draws. ``graph_figure`` leaves what layout computed in ``fig.fsm_layout``.
"""
import numpy as np

from lab.machines.layout import (NODE_RADIUS, arrow_label_places, fit_font, graph_geometry, graph_layout,
                                 loop_places, name_places, outline, thin)
from lab.machines.text import edge_labels, predicted_text
from lab.recurrent.states import phase_columns, state_colours

UNIT_INCHES = 0.8  # the graph figure's scale: inches per layout unit

GRAPH_FONT = 8

NAME_FONT, ARROW_FONT = 9, 8  # the scatter's state names and arrow labels

PHASE_COLOURS = ("tab:red", "tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def projection(features, unit="hidden"):
    """A map from the state space to 2-D and its axis labels: the units themselves for 2 units, else PCA."""
    features = np.asarray(features, dtype=np.float64)
    if features.shape[1] == 2:
        return (lambda x: np.asarray(x, dtype=np.float64).reshape(-1, 2)), (f"{unit} unit 0", f"{unit} unit 1")
    if features.shape[1] == 1:  # one unit: spread along x only
        return ((lambda x: np.hstack([np.asarray(x, dtype=np.float64).reshape(-1, 1), np.zeros((np.size(x), 1))])),
                (f"{unit} unit 0", ""))
    mean = features.mean(0)
    _, sing, vt = np.linalg.svd(features - mean, full_matrices=False)
    share = sing**2 / max((sing**2).sum(), 1e-300)
    axes = vt[:2].T
    return (lambda x: (np.asarray(x, dtype=np.float64).reshape(-1, features.shape[1]) - mean) @ axes,
            (f"principal component 1 ({share[0]:.0%} of variance)", f"principal component 2 ({share[1]:.0%})"))


# ---------------------------------------------------------------- the states in the state space

def scatter_figure(plt, features, labels, machine, initial, symbols, title, unit="hidden", names=None,
                   clusters=None):
    """The states visited, coloured by state, each cluster's outline, the state names and the transitions.

    labels: each point's state in ``machine``; or, with clusters = (the raw
    machine, block of each raw state), each point's raw state: the raw
    clusters are drawn (outlines, arrows between them, the initial state)
    coloured by the state of ``machine`` they belong to. names: each
    state's name (default its number). Colours: one hue per phase, shaded
    by the count (states.state_colours). Each state is named once, by its
    most visited cluster or, where that is crowded, further out with a
    line to it; a state made of several clusters has a line to each.
    No two labels overlap (layout.place_boxes).
    """
    raw, block = clusters if clusters is not None else (machine, np.arange(machine.num_states))
    names = [str(s) for s in range(machine.num_states)] if names is None else list(names)
    colours = state_colours(names)
    project, (xlabel, ylabel) = projection(np.vstack([features, initial[None]]), unit)
    pts, centres = project(features), project(raw.centers)
    fig, ax = plt.subplots(figsize=(8, 7.2), layout="constrained")
    pad = 0.02 * max(float(np.ptp(pts, axis=0).max()), 1e-6)  # between a cluster's points and its outline
    outlines = {s: outline(pts[labels == s], pad) for s in range(raw.num_states) if (labels == s).any()}
    _draw_clusters(ax, pts, labels, outlines, [colours[b] for b in block])
    start = project(initial)[0]
    ax.plot(*start, "kx", markersize=12, markeredgewidth=2, zorder=5)
    arcs, loops = _draw_arcs(ax, raw, symbols, centres)
    ax.margins(0.08)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    _scatter_legend(fig, names, colours, names[int(block[raw.initial])])
    fig.canvas.draw()  # the layout settles; from here on the axes stay put, so labels can be placed in pixels
    fig.set_layout_engine("none")
    ax.set(xlim=ax.get_xlim(), ylim=ax.get_ylim())
    taken = _name_states(ax, raw, block, names, colours, centres, outlines, start)
    spots = _draw_loops(ax, loops, centres, taken)
    _label_transitions(ax, arcs, [(spot, out, text) for (spot, out), (_, text) in zip(spots, loops)], centres, taken)
    return fig


def _draw_clusters(ax, pts, labels, outlines, colour):
    """The points, and the line round each cluster ({raw state: outline}; ``colour``: each raw state's colour)."""
    ax.scatter(pts[:, 0], pts[:, 1], c=[colour[s] for s in labels], s=6, alpha=0.5, linewidths=0)
    for s, line in outlines.items():
        ax.plot(*line.T, "-", color=colour[s], lw=1.2)


def _draw_arcs(ax, raw, symbols, centres):
    """The arrows between the clusters, bent a little; returns them as (from, to, label) and the self-loops
    as (state, label), for _draw_loops and _label_transitions."""
    arcs, loops = [], []
    for (s, t), text in edge_labels(raw, symbols).items():
        if s == t:
            loops.append((s, text))
            continue
        ax.annotate("", xy=centres[t], xytext=centres[s], arrowprops=dict(
            arrowstyle="-|>", color="0.25", lw=1.0, shrinkA=0, shrinkB=0, connectionstyle="arc3,rad=0.2"))
        arcs.append((s, t, text))
    return arcs, loops


def _draw_loops(ax, loops, centres, taken):
    """A small round loop beside each cluster that leads to itself, clear of the names (layout.loop_places);
    returns each loop's (label spot, outward direction) in pixels."""
    px = ax.transData.transform(centres)
    to_data, spots = ax.transData.inverted().transform, []
    for (s, _), loop in zip(loops, loop_places(px, [s for s, _ in loops], taken)):
        ax.plot(*to_data(loop["line"]).T, "-", color="0.25", lw=1.0)
        ax.annotate("", xy=to_data(loop["tip"][None])[0], xytext=to_data((loop["tip"] - loop["heading"])[None])[0],
                    arrowprops=dict(arrowstyle="-|>", color="0.25", lw=1.0, shrinkA=0, shrinkB=0))
        spots.append((loop["label"], loop["label"] - px[s]))
    return spots


def _scatter_legend(fig, names, colours, start_name):
    """Below the axes: the initial state's x and, for phase colours, a swatch per phase (first .. last name)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="x", color="k", ms=9, mew=2)]
    texts = [f"initial state ({start_name})"]
    columns = [(phase, members) for phase, members in phase_columns(names) if phase]
    if len(columns) > 1:
        for _, members in columns:
            handles.append(Line2D([], [], ls="", marker="s", ms=9, color=colours[members[len(members) // 2]]))
            texts.append(names[members[0]] + (f" .. {names[members[-1]]}" if len(members) > 1 else ""))
    fig.legend(handles, texts, loc="outside lower center", ncols=len(handles), fontsize=9, frameon=False)


def _size(text, pad):
    """A text's (width, height) in pixels, ``pad`` pixels added on every side (for its box)."""
    bb = text.get_window_extent(text.figure.canvas.get_renderer())
    return (bb.width + 2 * pad, bb.height + 2 * pad)


def _frame(ax, margin=3.0):
    """The axes' box in pixels, ``margin`` in from each side: where labels may go."""
    bb = ax.get_window_extent()
    return (bb.x0 + margin, bb.y0 + margin, bb.x1 - margin, bb.y1 - margin)


def _name_states(ax, raw, block, names, colours, centres, outlines, start):
    """Each state's name once, in a box edged in its colour, where layout.name_places puts it, with a line to
    each of its clusters the box does not cover; returns the boxes taken (pixels)."""
    px = ax.transData.transform
    texts = {m: ax.text(0, 0, names[m], fontsize=NAME_FONT, weight="bold", ha="center", va="center", zorder=6,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=colours[m], lw=1.5))
             for m in sorted(set(block.tolist()))}
    places = name_places(px(centres), block, raw.visits, raw.initial, {m: _size(t, 3) for m, t in texts.items()},
                         {s: px(line) for s, line in outlines.items()}, px(start[None])[0], _frame(ax))
    for m, (spot, _, joined) in places.items():
        texts[m].set_position(ax.transData.inverted().transform(spot))
        for s in joined:
            _leader(ax, spot, px(centres[s][None])[0], colours[m])
    return [box for _, box, _ in places.values()]


def _leader(ax, spot, target, colour):
    """A thin line (pixels in, drawn in data) from a label's centre, under its box, to what it names."""
    ax.plot(*ax.transData.inverted().transform([spot, target]).T, "-", color=colour, lw=0.8, zorder=5.5)


def _label_transitions(ax, arcs, loops, centres, taken):
    """Each arrow's and loop's symbols where layout.arrow_label_places puts them, a line to the arrow where
    a label had to go beside it."""
    px = ax.transData.transform
    style = dict(fontsize=ARROW_FONT, ha="center", va="center", color="0.25", zorder=4)
    texts = [ax.text(0, 0, label, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8), **style)
             for _, _, label in arcs] + [ax.text(0, 0, label, **style) for _, _, label in loops]
    places = arrow_label_places([(s, t) for s, t, _ in arcs], [(spot, out) for spot, out, _ in loops],
                                [_size(t, 1) for t in texts], px(centres), taken, _frame(ax))
    for text, (spot, near) in zip(texts, places):
        text.set_position(ax.transData.inverted().transform(spot))
        if near is not None:
            _leader(ax, spot, near, "0.5")


# ---------------------------------------------------------------- the machine as a graph

def _text_size(fig, text, fontsize, pad_points=0.0):
    """(width, height) of a text in layout units, padding included."""
    t = fig.text(0, 0, text, fontsize=fontsize)
    bb = t.get_window_extent(fig.canvas.get_renderer())
    t.remove()
    scale = fig.dpi * UNIT_INCHES
    return ((bb.width + 2 * pad_points * fig.dpi / 72) / scale, (bb.height + 2 * pad_points * fig.dpi / 72) / scale)


def graph_figure(plt, machine, symbols, title, names=None, positions=None, radius=NODE_RADIUS):
    """The machine as circles (name and predicted symbols) joined by labelled arrows.

    positions: each state's place (graph_layout; default: columns by the
    distance from the start). Every arrow is routed around the circles it
    does not join, arrows both ways between two states bulge to opposite
    sides, self-loops sit on the side of a circle with the most room, and
    each label goes where it overlaps no other label and no circle, along
    its arrow as near its middle as it can (layout.graph_geometry). The
    figure is drawn at UNIT_INCHES per layout unit, so it grows with the machine.
    """
    names = [str(s) for s in range(machine.num_states)] if names is None else names
    pos = np.asarray(graph_layout(machine) if positions is None else positions, dtype=np.float64)
    labels = edge_labels(machine, symbols)
    fig = plt.figure()
    sizes = {e: _text_size(fig, text, GRAPH_FONT, 1.5) for e, text in labels.items()}
    geometry = graph_geometry(pos, machine.initial, sizes, radius)
    ax = _graph_axes(fig, geometry["bounds"], title + "\n(each circle: the state's name and the symbol(s) it predicts)")
    _draw_arrows(ax, geometry)
    for s in range(machine.num_states):
        text = f"{names[s]}\n{predicted_text(machine, s, symbols)}"
        font = fit_font(lambda size: _text_size(fig, text, size), radius, GRAPH_FONT)
        ax.add_patch(plt.Circle(pos[s], radius, fc="white", ec="k", lw=2.0 if s == machine.initial else 1.0,
                                zorder=3))
        ax.text(*pos[s], text, ha="center", va="center", fontsize=font, zorder=4)
    for edge, centre in geometry["labels"].items():
        ax.text(*centre, labels[edge], ha="center", va="center", fontsize=GRAPH_FONT, zorder=5,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
    fig.fsm_layout = geometry
    return fig


def _graph_axes(fig, bounds, title):
    """Size the figure so that one layout unit is UNIT_INCHES, and add the bare axes over ``bounds`` and the title."""
    lo, hi = bounds
    title_w = _text_size(fig, title, 10)[0] * UNIT_INCHES
    width, height = (hi - lo) * UNIT_INCHES
    fig_w, fig_h = max(width + 0.2, title_w + 0.3), height + 0.1 + 0.55  # a margin, the title
    fig.set_size_inches(fig_w, fig_h)
    ax = fig.add_axes(((fig_w - width) / 2 / fig_w, 0.05 / fig_h, width / fig_w, height / fig_h))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.axis("off")
    fig.text(0.5, 1 - 0.08 / fig_h, title, ha="center", va="top", fontsize=10)
    return ax


def _draw_arrows(ax, geometry):
    """The arrows between states, the self-loops and the arrow into the start state."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    paths = list(geometry["paths"].values()) + list(geometry["loops"].values()) + [geometry["start_arrow"]]
    for path in paths:
        ax.add_patch(FancyArrowPatch(path=Path(thin(path, 120)), arrowstyle="-|>,head_length=0.5,head_width=0.22",
                                     mutation_scale=12, lw=1.0, color="k", zorder=2))


# ---------------------------------------------------------------- an LSTM's context units

def context_figure(plt, trace, seq, symbols, title):
    """Each cell (context) unit and hidden unit against the position, the phases of each string shaded.

    trace: dict with (T, hid) arrays ``context`` and ``hidden``; seq: the T input symbols.
    """
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    steps = np.arange(len(seq))
    for ax, key, name in ((axes[0], "context", "cell (context) unit"), (axes[1], "hidden", "hidden unit")):
        start = 0
        for t in range(1, len(seq) + 1):  # shade each run of one symbol
            if t == len(seq) or seq[t] != seq[start]:
                ax.axvspan(start - 0.5, t - 0.5, color=PHASE_COLOURS[seq[start] % len(PHASE_COLOURS)], alpha=0.12,
                           lw=0)
                start = t
        for u in range(trace[key].shape[1]):
            ax.plot(steps, trace[key][:, u], "o-", ms=3, label=f"{name} {u}")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_ylabel(name)
        ax.legend(loc="upper left", fontsize=8, ncol=trace[key].shape[1])
    from matplotlib.patches import Patch

    phases = [Patch(color=PHASE_COLOURS[i % len(PHASE_COLOURS)], alpha=0.3, label=f"{c} phase")
              for i, c in enumerate(symbols)]
    axes[0].add_artist(axes[0].legend(handles=phases, loc="upper right", fontsize=8))
    axes[0].legend(loc="upper left", fontsize=8, ncol=trace["context"].shape[1])
    axes[1].set_xticks(steps)
    axes[1].set_xticklabels([symbols[s] for s in seq], fontsize=7)
    axes[1].set_xlabel("input symbol (position in the sequence)")
    axes[0].set_title(title)
    return fig
