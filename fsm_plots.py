"""Figures for an extracted machine: states in the network's state space, the machine as a graph, LSTM context units.

Each function takes the ``plt`` from runtime.pyplot and returns a new
figure, which the caller saves with runtime.save_figure.
"""
import numpy as np

from fsm_extract import convex_hull

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


def edge_labels(machine, symbols):
    """{(state, next state): "A,B"} for the machine's majority transitions."""
    edges = {}
    for s, row in enumerate(machine.next_state):
        for a, t in enumerate(row):
            if t >= 0:
                edges.setdefault((s, int(t)), []).append(symbols[a])
    return {k: ",".join(v) for k, v in edges.items()}


def predicted_text(machine, state, symbols, floor=0.25):
    """The symbols a state predicts (mean probability at least ``floor``), most likely first, e.g. "A/B"."""
    p = machine.predict[state]
    if not p.any():
        return "-"
    order = [i for i in np.argsort(-p) if p[i] >= floor] or [int(p.argmax())]
    return "/".join(symbols[i] for i in order)


def _arrow(ax, start, end, label, rad, colour="k", size=9):
    """A curved arrow from start to end with its label at the middle of the curve."""
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.0, shrinkA=0, shrinkB=0,
                                connectionstyle=f"arc3,rad={rad}"))
    (x1, y1), (x2, y2) = start, end
    # matplotlib's arc3 control point is mid + rad * (dy, -dx); a quadratic curve passes half-way to it
    mx, my = (x1 + x2) / 2 + 0.5 * rad * (y2 - y1), (y1 + y2) / 2 - 0.5 * rad * (x2 - x1)
    ax.text(mx, my, label, fontsize=size, ha="center", va="center", color=colour,
            bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))


def _self_loop(ax, centre, radius, outward, label, colour="k", size=9):
    """A small loop just outside a node (pointing along ``outward``) with an arrowhead and its label."""
    from matplotlib.patches import Arc

    u = np.asarray(outward, dtype=np.float64)
    u = u / (np.linalg.norm(u) or 1.0)
    loop_c = np.asarray(centre) + 1.25 * radius * u
    angle = np.degrees(np.arctan2(u[1], u[0]))
    ax.add_patch(Arc(loop_c, 1.2 * radius, 1.2 * radius, angle=angle, theta1=-130, theta2=130, color=colour, lw=1.0))
    tip = np.radians(angle - 130)
    end = loop_c + 0.6 * radius * np.array([np.cos(tip), np.sin(tip)])
    tangent = np.array([np.sin(tip), -np.cos(tip)])
    ax.annotate("", xy=end, xytext=end - 0.05 * radius * tangent,
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.0, shrinkA=0, shrinkB=0))
    ax.text(*(loop_c + 1.0 * radius * u), label, fontsize=size, ha="center", va="center", color=colour)


def scatter_figure(plt, features, labels, machine, initial, symbols, title, unit="hidden"):
    """The states visited, coloured by extracted state, each state's convex hull, number and transitions."""
    project, (xlabel, ylabel) = projection(np.vstack([features, initial[None]]), unit)
    pts, centres, start = project(features), project(machine.centers), project(initial)[0]
    fig, ax = plt.subplots(figsize=(8, 7))
    cmap = plt.get_cmap("tab20")
    span = max(float(np.ptp(pts, axis=0).max()), 1e-6)
    pad = 0.02 * span
    ax.scatter(pts[:, 0], pts[:, 1], c=[cmap(s % 20) for s in labels], s=6, alpha=0.5, linewidths=0)
    for s in range(machine.num_states):
        members = pts[labels == s]
        if len(members) == 0:
            continue
        hull = convex_hull(members)
        colour = cmap(s % 20)
        if len(hull) >= 3:  # push the hull out a little, so the points sit inside the line
            centre = hull.mean(0)
            away = hull - centre
            norm = np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-12)
            hull = np.vstack([hull + pad * away / norm, hull[:1] + pad * away[:1] / norm[:1]])
            ax.plot(hull[:, 0], hull[:, 1], "-", color=colour, lw=1.2)
        else:
            mid = hull.mean(0)
            reach = max(np.linalg.norm(hull - mid, axis=1).max() + pad, pad)
            ax.add_patch(plt.Circle(mid, reach, fill=False, color=colour, lw=1.2))
    middle = centres.mean(0)
    for (s, t), text in edge_labels(machine, symbols).items():
        if s == t:
            _self_loop(ax, centres[s], 2.5 * pad, centres[s] - middle, text, colour="0.25", size=8)
        else:
            _arrow(ax, centres[s], centres[t], text, 0.2, colour="0.25", size=8)
    for s, (x, y) in enumerate(centres):
        ax.text(x, y, str(s), fontsize=10, weight="bold", ha="center", va="center",
                bbox=dict(boxstyle="circle,pad=0.15", fc="white", ec=cmap(s % 20), lw=1.5))
    ax.plot(*start, "kx", markersize=12, markeredgewidth=2, zorder=5,
            label=f"initial state (in state {machine.initial})")
    ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def layers(machine):
    """Each state's column (its shortest distance from the initial state) and row within that column."""
    nxt = machine.next_state
    depth = {machine.initial: 0}
    queue = [machine.initial]
    for s in queue:
        for t in nxt[s]:
            if t >= 0 and int(t) not in depth:
                depth[int(t)] = depth[s] + 1
                queue.append(int(t))
    last = max(depth.values()) + 1
    for s in range(machine.num_states):  # states the machine never reaches get a column of their own
        depth.setdefault(s, last)
    pos = np.zeros((machine.num_states, 2))
    for d in set(depth.values()):
        column = [s for s in range(machine.num_states) if depth[s] == d]
        for i, s in enumerate(column):
            pos[s] = (d, (len(column) - 1) / 2 - i)
    return pos


def graph_figure(plt, machine, symbols, title):
    """The machine as circles in columns by distance from the initial state, with labelled arrows.

    Arrows to the next column are straight; others (back to earlier states,
    or further on) are arcs, labelled at their middle; self-loops sit on top.
    """
    pos = layers(machine)
    radius, size = 0.3, 8
    bends = []
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * (np.ptp(pos[:, 0]) + 2)), 5.0))
    for (s, t), text in edge_labels(machine, symbols).items():
        if s == t:
            _self_loop(ax, pos[s], radius, (0.0, 1.0), text, size=size)
            continue
        d = pos[t] - pos[s]
        rad = 0.0 if np.isclose(d[0], 1.0) and abs(d[1]) < 2 else (0.35 if d[0] <= 0 else -0.35)
        u = d / np.linalg.norm(d)
        _arrow(ax, pos[s] + radius * u, pos[t] - radius * u, text, rad, size=size)
        bends.append((pos[s] + pos[t]) / 2 + 0.5 * rad * np.array([d[1], -d[0]]))
    for s in range(machine.num_states):
        ax.add_patch(plt.Circle(pos[s], radius, fc="white", ec="k", lw=2.0 if s == machine.initial else 1.0,
                                zorder=3))
        ax.text(*pos[s], f"{s}\n{predicted_text(machine, s, symbols)}", ha="center", va="center", fontsize=size,
                zorder=4)
    start = pos[machine.initial]
    ax.annotate("start", xy=start - (radius, 0), xytext=start - (1.0, 0), ha="center", va="center", fontsize=size,
                arrowprops=dict(arrowstyle="-|>", lw=1.5))
    every = np.vstack([pos, np.array(bends).reshape(-1, 2), start - (1.0, 0)])
    ax.set_xlim(every[:, 0].min() - 0.6, every[:, 0].max() + 0.6)
    ax.set_ylim(every[:, 1].min() - 0.6, every[:, 1].max() + 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title + "\n(each circle: state number and the symbol(s) it predicts; columns: steps from the start)")
    fig.tight_layout()
    return fig


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
