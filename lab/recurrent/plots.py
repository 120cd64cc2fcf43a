"""Part 3 hidden-unit figures: the states a network visits, unit against unit and in 3-D.

Each figure colours every point by the language's state and marks an SRN's
initial state with a black x; ``save_plots`` writes one image per pair of
units and, for 3 or more units, three 3-D views. Given the states' names
(states.point_names: "A3", "b5", "n4", the names seq_fsm.py gives the
machine's states), each phase has a hue of its own (the A's red, the B's
green, the C's blue), shaded light to dark by the count, and a legend beside
the plot lists the names, a column per phase. The 3-D views keep to a few
upright tick labels that touch no other label.
"""
import numpy as np

from lab.common.figures import save_figure
from lab.recurrent.states import phase_columns, state_colours

VIEWS = {"front": (20, -60), "side": (20, 30), "top": (85, -90)}  # (elevation, azimuth)

LEGEND_ROWS = 22  # the most names in one column of the legend


def _named(states, names):
    """(class of each point, the class names): the names given, or else the distinct state numbers."""
    if names is not None:
        return np.asarray(states), list(names)
    values, classes = np.unique(np.asarray(states), return_inverse=True)
    return classes, [str(v) for v in values.tolist()]


def _legend_columns(names):
    """The legend's columns of name indices: a column per phase, light to dark, split where longer than LEGEND_ROWS."""
    return [members[i:i + LEGEND_ROWS] for _, members in phase_columns(names)
            for i in range(0, len(members), LEGEND_ROWS)]


def _canvas(plt, names, three_d=False):
    """A new figure and axes with room on the right for the legend's columns (constrained layout)."""
    columns = len(_legend_columns(names))
    fig = plt.figure(figsize=(5.4 + 0.8 * columns, 5.2 if three_d else 4.8), layout="constrained")
    return fig, fig.add_subplot(projection="3d" if three_d else None)


def _legend(fig, names, colours, title):
    """Beside the axes, the states' names by colour: a column per phase (blank rows fill the short ones)."""
    from matplotlib.lines import Line2D

    columns = _legend_columns(names)
    rows = max(len(c) for c in columns)
    handles, texts = [], []
    for column in columns:
        for i in column + [None] * (rows - len(column)):
            shown = i is not None
            handles.append(Line2D([], [], ls="", marker="o", ms=6, color=colours[i] if shown else "none"))
            texts.append(names[i] if shown else "")
    return fig.legend(handles, texts, loc="outside right upper", ncols=len(columns), title=title, fontsize=8,
                      title_fontsize=9, frameon=False, handletextpad=0.2, columnspacing=0.9, labelspacing=0.35)


def pair_figure(plt, points, states, j, k, initial=None, title="", unit="hidden", names=None):
    """A new figure: units j and k of every point, coloured by state; the initial state as a black x.

    names: the name of each state, ``states`` then being indices into it (states.point_names).
    """
    classes, shown = _named(states, names)
    colours = state_colours(shown)
    fig, ax = _canvas(plt, shown)
    ax.scatter(points[:, j], points[:, k], s=12, c=[colours[c] for c in classes])
    if initial is not None:
        ax.plot(initial[j], initial[k], "kx", markersize=12, markeredgewidth=2, label="initial state")
        ax.legend(loc="best")
    if unit == "hidden":
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(f"{unit} unit {j}")
    ax.set_ylabel(f"{unit} unit {k}")
    ax.set_title(title)
    _legend(fig, shown, colours, "language state" if names is not None else "state")
    return fig


def cube_figure(plt, points, states, view, initial=None, title="", unit="hidden", names=None):
    """A new figure: the first three units in 3-D from one of VIEWS (names: as pair_figure)."""
    classes, shown = _named(states, names)
    colours = state_colours(shown)
    fig, ax = _canvas(plt, shown, three_d=True)
    ax.scatter(points[:, 0], points[:, 1], points[:, 2], s=12, c=[colours[c] for c in classes])
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c="k", marker="x", s=80)
    ax.view_init(*VIEWS[view])
    ax.set_xlabel(f"{unit} 0")
    ax.set_ylabel(f"{unit} 1")
    ax.set_zlabel(f"{unit} 2")
    ax.set_title(f"{title} ({view})")
    _legend(fig, shown, colours, "language state" if names is not None else "state")
    clear_ticks(fig, ax)
    return fig


def tick_values(low, high, count):
    """At most ``count`` of the round values that split [low, high] in about three, spread over it."""
    from matplotlib.ticker import MaxNLocator

    inside = [v for v in MaxNLocator(nbins=3).tick_values(low, high) if low <= v <= high]
    if len(inside) <= count:
        return inside
    return [inside[i] for i in np.linspace(0, len(inside) - 1, count).round().astype(int)] if count else []


def _touching(a, b, gap):
    """Whether two display boxes come within ``gap`` pixels of each other."""
    return a.x0 - gap < b.x1 and b.x0 - gap < a.x1 and a.y0 - gap < b.y1 and b.y0 - gap < a.y1


def view_labels(fig, ax):
    """The texts drawn on a 3-D view, as (axis number or None, display box): each axis's tick labels
    (0, 1, 2 for x, y, z), the axis labels and the title (None). Draws the figure first."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for number, axis in enumerate((ax.xaxis, ax.yaxis, ax.zaxis)):
        low, high = sorted(axis.get_view_interval())
        values = axis.get_majorticklocs()
        # the ticks as drawn (get_majorticklabels would move their labels back to 2-D places)
        for value, tick in zip(values, axis.get_major_ticks(len(values))):
            if tick.label1.get_visible() and tick.label1.get_text().strip() and low <= value <= high:
                out.append((number, tick.label1.get_window_extent(renderer)))
        out.append((None, axis.label.get_window_extent(renderer)))
    out.append((None, ax.title.get_window_extent(renderer)))
    return out


def clear_ticks(fig, ax, gap=1.0):
    """Few upright tick labels on a 3-D view's axes, none touching another label.

    Each axis starts with three round values inside its range; an axis
    whose tick labels touch another text (view_labels) drops to two, then
    to none (its grid stays): an axis seen end-on keeps no labels.
    """
    axes, counts = (ax.xaxis, ax.yaxis, ax.zaxis), [3, 3, 3]
    while True:  # each round drops labels from an axis that has some, so this ends
        for axis, count in zip(axes, counts):
            values = tick_values(*sorted(axis.get_view_interval()), 3)
            shown = tick_values(*sorted(axis.get_view_interval()), count)
            axis.set_ticks(values, labels=[f"{v:g}" if v in shown else "" for v in values])
            axis.set_tick_params(labelrotation=0)
        boxes, crowded = view_labels(fig, ax), set()
        for i, (n, box) in enumerate(boxes):
            for m, other in boxes[i + 1:]:
                if _touching(box, other, gap):
                    crowded |= {n, m}
        crowded.discard(None)  # axis labels and the title stay
        if not crowded:
            return
        for n in crowded:
            counts[n] = 2 if counts[n] == 3 else 0


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
