"""Part 3 hidden-unit figures: the states a network visits, unit against unit and in 3-D.

Each figure colours every point by the language's state (jet) and marks an
SRN's initial state with a black x; ``save_plots`` writes one image per pair
of units and, for 3 or more units, three 3-D views. Given the states' names
(fsm_report.point_names: "A3", "b5", "n4", the names seq_fsm.py gives the
machine's states), each state gets a colour of its own and the colour bar
is labelled with the names.
"""
import math

import numpy as np

from lab.common.figures import save_figure

VIEWS = {"front": (20, -60), "side": (20, 30), "top": (85, -90)}  # (elevation, azimuth)


def _colours(plt, states, names):
    """Scatter colour arguments: jet over the state numbers, or one jet colour per named state."""
    if names is None:
        return {"c": states, "cmap": "jet"}
    from matplotlib.colors import BoundaryNorm, ListedColormap

    count = len(names)
    cmap = ListedColormap(plt.get_cmap("jet")(np.linspace(0, 1, count)))
    return {"c": states, "cmap": cmap, "norm": BoundaryNorm(np.arange(-0.5, count), count)}


def _size(names):
    """The figure size: larger where the colour bar has many names."""
    return (6, 5) if names is None or len(names) <= 24 else (7, 6.5)


def _colour_bar(fig, sc, ax, names, **kwargs):
    """The colour bar: "state" numbers, or a tick per named state (every other one where they would crowd)."""
    if names is None:
        return fig.colorbar(sc, ax=ax, label="state", **kwargs)
    bar = fig.colorbar(sc, ax=ax, label="language state", **kwargs)
    size = 8 if len(names) <= 16 else 7
    room = bar.ax.get_position().height * fig.get_size_inches()[1] * 72  # points of colour bar
    step = max(1, math.ceil(len(names) * size * 1.25 / max(room, 1)))
    ticks = np.arange(0, len(names), step)
    bar.set_ticks(ticks)
    bar.set_ticklabels([names[i] for i in ticks])
    bar.ax.tick_params(labelsize=size)
    return bar


def pair_figure(plt, points, states, j, k, initial=None, title="", unit="hidden", names=None):
    """A new figure: units j and k of every point, coloured by state; the initial state as a black x.

    names: the name of each state, ``states`` then being indices into it (fsm_report.point_names).
    """
    fig, ax = plt.subplots(figsize=_size(names))
    sc = ax.scatter(points[:, j], points[:, k], s=12, **_colours(plt, states, names))
    if initial is not None:
        ax.plot(initial[j], initial[k], "kx", markersize=12, markeredgewidth=2, label="initial state")
        ax.legend(loc="best")
    if unit == "hidden":
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(f"{unit} unit {j}")
    ax.set_ylabel(f"{unit} unit {k}")
    ax.set_title(title)
    _colour_bar(fig, sc, ax, names)
    return fig


def cube_figure(plt, points, states, view, initial=None, title="", unit="hidden", names=None):
    """A new figure: the first three units in 3-D from one of VIEWS (names: as pair_figure)."""
    fig = plt.figure(figsize=_size(names))
    ax = fig.add_subplot(projection="3d")
    sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], s=12, **_colours(plt, states, names))
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c="k", marker="x", s=80)
    ax.view_init(*VIEWS[view])
    ax.set_xlabel(f"{unit} 0")
    ax.set_ylabel(f"{unit} 1")
    ax.set_zlabel(f"{unit} 2")
    ax.set_title(f"{title} ({view})")
    _colour_bar(fig, sc, ax, names, shrink=0.7 if names is None or len(names) <= 16 else 0.9, pad=0.12)
    return fig


def save_plots(plt, data, prefix, title, unit="hidden", initial=None, names=None):
    """Save the pair plots and, for 3+ units, the three 3-D views; returns the paths written.

    data: (points, states); names: as pair_figure.
    """
    points, states = data
    written = []
    hid = points.shape[1]
    for j in range(hid):
        for k in range(j + 1, hid):
            fig = pair_figure(plt, points, states, j, k, initial, title, unit, names)
            written.append(save_figure(fig, f"{prefix}_{j}{k}.jpg", dpi=100))
    if hid >= 3:
        for view in VIEWS:
            fig = cube_figure(plt, points, states, view, initial, title, unit, names)
            written.append(save_figure(fig, f"{prefix}_3d_{view}.jpg", dpi=100))
    return written


def loss_figure(plt, thousands, losses, target, chosen_at=None, title=""):
    """A new figure: the reported loss against thousands of sequences (log scale), the target as a line.

    ``chosen_at`` marks when the best of several candidates was chosen for good.
    """
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(thousands, losses, "-", color="tab:blue", lw=1.2, label="reported loss (mean over 1000 sequences)")
    ax.axhline(target, color="tab:red", ls="--", lw=1, label=f"target {target}")
    if chosen_at is not None:
        ax.axvline(chosen_at, color="0.4", ls=":", lw=1.2, label=f"candidate chosen for good ({chosen_at}k)")
    ax.set_yscale("log")
    ax.set_xlabel("thousands of training sequences")
    ax.set_ylabel("loss (mean squared error of the probabilities)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
