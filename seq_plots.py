"""Part 3 hidden-unit figures: the states a network visits, unit against unit and in 3-D.

Each figure colours every point by the language's state (jet) and marks an
SRN's initial state with a black x; ``save_plots`` writes one image per pair
of units and, for 3 or more units, three 3-D views.
"""
from runtime import save_figure

VIEWS = {"front": (20, -60), "side": (20, 30), "top": (85, -90)}  # (elevation, azimuth)


def pair_figure(plt, points, states, j, k, initial=None, title="", unit="hidden"):
    """A new figure: units j and k of every point, coloured by state; the initial state as a black x."""
    fig, ax = plt.subplots(figsize=(6, 5))
    sc = ax.scatter(points[:, j], points[:, k], c=states, cmap="jet", s=12)
    if initial is not None:
        ax.plot(initial[j], initial[k], "kx", markersize=12, markeredgewidth=2, label="initial state")
        ax.legend(loc="best")
    if unit == "hidden":
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(f"{unit} unit {j}")
    ax.set_ylabel(f"{unit} unit {k}")
    ax.set_title(title)
    fig.colorbar(sc, ax=ax, label="state")
    return fig


def cube_figure(plt, points, states, view, initial=None, title="", unit="hidden"):
    """A new figure: the first three units in 3-D from one of VIEWS."""
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=states, cmap="jet", s=12)
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c="k", marker="x", s=80)
    ax.view_init(*VIEWS[view])
    ax.set_xlabel(f"{unit} 0")
    ax.set_ylabel(f"{unit} 1")
    ax.set_zlabel(f"{unit} 2")
    ax.set_title(f"{title} ({view})")
    fig.colorbar(sc, ax=ax, label="state", shrink=0.7, pad=0.12)
    return fig


def save_plots(plt, data, prefix, title, unit="hidden", initial=None):
    """Save the pair plots and, for 3+ units, the three 3-D views; returns the paths written."""
    points, states = data
    written = []
    hid = points.shape[1]
    for j in range(hid):
        for k in range(j + 1, hid):
            fig = pair_figure(plt, points, states, j, k, initial, title, unit)
            written.append(save_figure(fig, f"{prefix}_{j}{k}.jpg", dpi=100))
    if hid >= 3:
        for view in VIEWS:
            fig = cube_figure(plt, points, states, view, initial, title, unit)
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
