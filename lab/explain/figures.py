"""Figures of an analysis: each symbol's flow field, the hidden space with its decision boundary, the counters.

Every function takes the ``plt`` of lab.common.figures.pyplot and the
analysis dictionary (lab.explain.analysis.explain), plus the StateMaps for
the flow fields, and returns a new figure for save_figure.
- ``flow_figure`` (2 hidden units): per input symbol, arrows h -> f(h) - h
  on a grid, the map's fixed points (filled: attracting, open: repelling,
  x: saddle) and slow points (grey diamonds), the decision line, and the
  longest training string's path.
- ``space_figure`` (2 hidden units): the strings n = 1 .. the analysis's top
  n (2 x the training n unless seq_explain.py's --beyond says otherwise) as
  paths through the hidden space, the two sides of the decision line shaded
  and named, and the first wrong prediction of each string beyond the range
  marked with a red x.
- ``counter_figure`` (any network): each unit (cells first for an LSTM)
  along the strings, one column per phase so that every string's phase
  starts at the same place, the deciding thresholds as dotted lines in the
  phase they decide, every wrong prediction beyond the range as a red x.
"""
import numpy as np

from lab.explain.boundaries import line_points

BOX = (-1.1, 1.1)
MARKERS = {"attracting": dict(marker="o", facecolor="k"), "repelling": dict(marker="o", facecolor="white"),
           "saddle": dict(marker="X", facecolor="k"), "marginal": dict(marker="s", facecolor="grey")}


def _draw_line(ax, result, label=True):
    """The A|B decision line (2 units) with each side named by the symbol it predicts."""
    b = result["boundaries"][0]
    ends = line_points(b, BOX)
    if ends is None:
        return
    (x0, y0), (x1, y1) = ends
    ax.plot([x0, x1], [y0, y1], "k--", lw=1.2, label=f"P({b['pair'][0]}) = P({b['pair'][1]})" if label else None)
    mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    normal = np.array(b["normal"]) / np.linalg.norm(b["normal"])
    for sign, symbol in ((1, b["pair"][0]), (-1, b["pair"][1])):
        x, y = np.clip(mid + sign * 0.42 * normal, BOX[0] + 0.2, BOX[1] - 0.2)
        ax.text(x, y, f"predicts {symbol}", ha="center", va="center", fontsize=10, fontweight="bold",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.6", alpha=0.9))


def _shade_sides(ax, result):
    """Shade the hidden space by the symbol the output predicts (2 symbols, 2 units)."""
    b = result["boundaries"][0]
    grid = np.linspace(*BOX, 200)
    xx, yy = np.meshgrid(grid, grid)
    value = b["normal"][0] * xx + b["normal"][1] * yy + b["offset"]
    ax.contourf(xx, yy, value > 0, levels=[-0.5, 0.5, 1.5], colors=["#dde8f7", "#f7e3dd"], alpha=0.8)


def _fixed_points(ax, points):
    for p in points["fixed"]:
        style = MARKERS[p["type"].split(",")[0]]
        ax.scatter(*p["state"][:2], s=110, marker=style["marker"], facecolors=style["facecolor"],
                   edgecolors="k", linewidths=1.5, zorder=5)
    for p in points["slow"]:
        ax.scatter(*p["state"][:2], s=50, marker="D", color="0.5", zorder=4)


def flow_figure(plt, result, maps):
    """Per symbol: the flow h -> f(h) - h, fixed and slow points, the decision line, a training string's path."""
    symbols = result["symbols"]
    fig, axes = plt.subplots(1, len(symbols), figsize=(5.2 * len(symbols), 5.2), squeeze=False)
    grid = np.linspace(-1.0, 1.0, 15)
    longest = next(t for t in result["trajectories"] if t["n"] == result["length"])
    path = np.array(longest["states"])
    for a, ax in enumerate(axes[0]):
        starts = np.array([(x, y) for y in grid for x in grid])
        moves = np.array([maps.step(h, a) - h for h in starts])
        ax.quiver(starts[:, 0], starts[:, 1], moves[:, 0], moves[:, 1], angles="xy", scale_units="xy", scale=4,
                  width=0.004, color="0.45")
        _draw_line(ax, result, label=False)
        ax.plot(path[:, 0], path[:, 1], "-", color="tab:purple", lw=1.6, marker="o", ms=3.5,
                label=f"path of the n = {result['length']} string")
        _fixed_points(ax, result["maps"][a])
        ax.set(xlim=BOX, ylim=BOX, xlabel="hidden unit 0", ylabel="hidden unit 1", aspect="equal",
               title=f"reading {symbols[a]}: h -> f(h, {symbols[a]})  (arrows: f(h) - h, 1/4 length)")
        ax.title.set_fontsize(10)
    axes[0][0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"{result['lang']} SRN: the map of each symbol; filled: attracting fixed point, open: repelling, "
                 "x: saddle, grey: slow point", fontsize=10)
    fig.tight_layout()
    return fig


def space_figure(plt, result):
    """The strings' paths through the hidden space, the decision line, and the first errors beyond the range."""
    fig, ax = plt.subplots(figsize=(7, 6.2))
    _shade_sides(ax, result)
    _draw_line(ax, result)
    cmap = plt.get_cmap("viridis")
    top = result["top"]
    for t in result["trajectories"]:
        path = np.array(t["states"])[:, :2]
        beyond = t["n"] > result["length"]
        ax.plot(path[:, 0], path[:, 1], "--" if beyond else "-", color=cmap((t["n"] - 1) / max(top - 1, 1)),
                lw=1.2, marker=".", ms=4, label=f"n = {t['n']}" + (" (beyond)" if beyond else ""))
    for row, t in zip(result["beyond"], result["trajectories"]):
        if row["error"] is not None:
            x, y = np.array(t["states"])[row["error"]["position"], :2]
            ax.plot(x, y, "x", color="red", ms=11, mew=2.5, zorder=6)
    ax.plot([], [], "x", color="red", ms=9, mew=2, label="first wrong prediction")
    ax.set(xlim=BOX, ylim=BOX, xlabel="hidden unit 0", ylabel="hidden unit 1", aspect="equal",
           title=f"{result['lang']} SRN: one string of each n in the hidden space")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def counter_figure(plt, result):
    """Each unit along the strings n = 1 .. top, one column per phase aligned at its first symbol:
    thresholds dotted in the phase they decide, every wrong prediction beyond the range a red x."""
    labels, symbols = result["units"], result["symbols"]
    fig, axes = plt.subplots(len(labels), len(symbols), figsize=(3.6 * len(symbols) + 1.6, 1.9 * len(labels) + 0.9),
                             sharex="col", sharey="row", squeeze=False)
    cmap = plt.get_cmap("viridis")
    top = result["top"]
    for t in result["trajectories"]:
        states, inputs = np.array(t["states"]), np.array(t["inputs"])
        wrong = (inputs != 0) & (np.array(t["predicted"]) != np.array(t["targets"]))
        beyond = t["n"] > result["length"]
        for p, symbol in enumerate(symbols):
            where = np.nonzero(inputs == p)[0]
            count = np.arange(1, len(where) + 1)
            for u, label in enumerate(labels):
                ax = axes[u, p]
                values = states[where, _index(result, label)]
                ax.plot(count, values, "--" if beyond else "-", lw=1.1, color=cmap((t["n"] - 1) / max(top - 1, 1)),
                        label=f"n = {t['n']}" if (u, p) == (0, 0) else None)
                bad = wrong[where]
                ax.plot(count[bad], values[bad], "x", color="red", ms=7, mew=1.8, zorder=5)
    for d in result["decisions"]:
        p = symbols.index(d["phase"])
        for u, label in enumerate(labels):
            if d["unit"] == label:
                axes[u, p].axhline(d["threshold"], color="k", ls=":", lw=1)
                axes[u, p].text(0.99, d["threshold"], f"{d['then']} next {d['direction']} this ", ha="right",
                                va="bottom", transform=axes[u, p].get_yaxis_transform(), fontsize=8,
                                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for u, label in enumerate(labels):
        axes[u, 0].set_ylabel(label, fontsize=9)
    for p, symbol in enumerate(symbols):
        axes[0, p].set_title(f"reading {symbol}'s", fontsize=10)
        axes[-1, p].set_xlabel(f"{symbol}'s read so far")
    axes[0, 0].plot([], [], "x", color="red", ms=7, mew=1.8, label="wrong prediction")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="center right", fontsize=8)
    fig.suptitle(f"{result['lang']} {result['model'].upper()}: each unit through each phase, one string of each n "
                 "(dashed: beyond the training range; red x: a wrong prediction)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 0.97))
    return fig


def _index(result, label):
    """Where a unit's value sits in a state vector: hidden units first, then an LSTM's cells."""
    kind, _, u = label.rpartition(" ")
    return int(u) + (result["hid"] if kind == "cell unit" else 0)
