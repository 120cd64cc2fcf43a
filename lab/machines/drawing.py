"""Figures for an extracted machine: states in the network's state space, the machine as a graph, LSTM context units.

Each function takes the ``plt`` from lab.common.figures.pyplot and returns a
new figure, which the caller saves with save_figure. The graph's geometry
(positions, arrow paths, clear places for labels) comes from
lab.machines.layout; ``graph_figure`` leaves what it drew in ``fig.fsm_layout``.
"""
import numpy as np

from lab.machines.extract import convex_hull
from lab.machines.layout import (CLEARANCE, DIRECTIONS, NODE_RADIUS, along, box_at, box_hits_circle, circle_gap,
                                 crossings, graph_layout, inside, length, loop_path, overlaps, route_edges, thin)
from lab.machines.text import edge_labels, predicted_text


UNIT_INCHES = 0.8  # the graph figure's scale: inches per layout unit



GRAPH_FONT = 8



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



def _place_boxes(fig, ax, items, fixed=()):
    """Greedy label placement in pixels: each (anchor candidates, text artist) goes to its first free spot.

    items: (candidates, text) pairs, candidates a list of display points
    tried in order; fixed: boxes (x0, y0, x1, y1) already taken. Returns
    the chosen display point of each. A text that finds no free spot stays
    at its first candidate.
    """
    renderer = fig.canvas.get_renderer()
    taken, chosen = list(fixed), []
    for candidates, text in items:
        bb = text.get_window_extent(renderer)
        w, h = bb.width / 2 + 3, bb.height / 2 + 2
        spot = candidates[0]
        for x, y in candidates:
            box = (x - w, y - h, x + w, y + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
                spot = (x, y)
                break
        taken.append((spot[0] - w, spot[1] - h, spot[0] + w, spot[1] + h))
        text.set_position(ax.transData.inverted().transform(spot))
        chosen.append(spot)
    return chosen



def _rings(x, y, radii=(0, 14, 22, 32, 44, 58, 74)):
    """Display points around (x, y): the point itself, then 8 directions at growing distances."""
    out = []
    for r in radii:
        for k in range(8 if r else 1):
            a = np.pi / 2 + k * np.pi / 4
            out.append((x + r * np.cos(a), y + r * np.sin(a)))
    return out



def scatter_figure(plt, features, labels, machine, initial, symbols, title, unit="hidden", names=None,
                   clusters=None):
    """The states visited, coloured by state, each cluster's convex hull, the state names and the transitions.

    labels: each point's state in ``machine``; or, with clusters = (the raw
    machine, block of each raw state), each point's raw state: the raw
    clusters are drawn (hulls, arrows between them, the initial state)
    coloured and named by the state of ``machine`` they belong to, so a
    merged state made of two clusters shows its name at both. names: each
    state's name (default its number). Names and arrow labels are moved
    apart where they would overlap, a thin line joining a moved name to
    its cluster.
    """
    raw, block = clusters if clusters is not None else (machine, np.arange(machine.num_states))
    names = [str(s) for s in range(machine.num_states)] if names is None else names
    project, (xlabel, ylabel) = projection(np.vstack([features, initial[None]]), unit)
    pts, centres, start = project(features), project(raw.centers), project(initial)[0]
    fig, ax = plt.subplots(figsize=(8, 7))
    cmap = plt.get_cmap("tab20")
    colour = lambda raw_state: cmap(int(block[raw_state]) % 20)
    span = max(float(np.ptp(pts, axis=0).max()), 1e-6)
    pad = 0.02 * span
    ax.scatter(pts[:, 0], pts[:, 1], c=[colour(s) for s in labels], s=6, alpha=0.5, linewidths=0)
    for s in range(raw.num_states):
        members = pts[labels == s]
        if len(members) == 0:
            continue
        hull = convex_hull(members)
        if len(hull) >= 3:  # push the hull out a little, so the points sit inside the line
            centre = hull.mean(0)
            away = hull - centre
            norm = np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-12)
            hull = np.vstack([hull + pad * away / norm, hull[:1] + pad * away[:1] / norm[:1]])
            ax.plot(hull[:, 0], hull[:, 1], "-", color=colour(s), lw=1.2)
        else:
            mid = hull.mean(0)
            reach = max(np.linalg.norm(hull - mid, axis=1).max() + pad, pad)
            ax.add_patch(plt.Circle(mid, reach, fill=False, color=colour(s), lw=1.2))
    ax.plot(*start, "kx", markersize=12, markeredgewidth=2, zorder=5,
            label=f"initial state ({names[int(block[raw.initial])]})")
    ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    middle = centres.mean(0)
    arcs = []
    for (s, t), text in edge_labels(raw, symbols).items():
        if s == t:
            _self_loop(ax, centres[s], 2.5 * pad, centres[s] - middle, text, colour="0.25", size=8)
        else:
            ax.annotate("", xy=centres[t], xytext=centres[s], arrowprops=dict(
                arrowstyle="-|>", color="0.25", lw=1.0, shrinkA=0, shrinkB=0, connectionstyle="arc3,rad=0.2"))
            arcs.append((s, t, text))
    ax.set_xlim(ax.get_xlim())  # fixed from here on, so that the labels can be placed in pixels
    ax.set_ylim(ax.get_ylim())
    to_px = ax.transData.transform
    items = []
    for s in sorted(range(raw.num_states), key=lambda s: -raw.visits[s]):
        text = ax.text(*centres[s], names[int(block[s])], fontsize=9, weight="bold", ha="center", va="center",
                       zorder=6, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=colour(s), lw=1.5))
        rings = _rings(*to_px(centres[s]))
        items.append((rings[1:] if s == raw.initial else rings, text, s))  # the start's name beside its x
    chosen = _place_boxes(fig, ax, [(c, t) for c, t, _ in items])
    fixed = []
    renderer = fig.canvas.get_renderer()
    for (_, text, s), spot in zip(items, chosen):
        anchor = to_px(centres[s])
        bb = text.get_window_extent(renderer)
        fixed.append((bb.x0 - 3, bb.y0 - 2, bb.x1 + 3, bb.y1 + 2))
        if np.hypot(*(np.asarray(spot) - anchor)) > 1:
            ax.plot(*np.transpose([centres[s], ax.transData.inverted().transform(spot)]), "-", color=colour(s),
                    lw=0.8, zorder=5.5)
    edge_items = []
    for s, t, label in arcs:  # matplotlib's arc3 curve (display space), labels tried along it from its middle
        p, q = to_px(centres[s]), to_px(centres[t])
        control = (p + q) / 2 + 0.2 * np.array([q[1] - p[1], p[0] - q[0]])
        along = [(1 - f) ** 2 * p + 2 * (1 - f) * f * control + f**2 * q for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)]
        text = ax.text(0, 0, label, fontsize=8, ha="center", va="center", color="0.25", zorder=4,
                       bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
        edge_items.append((along, text))
    _place_boxes(fig, ax, edge_items, fixed)
    return fig



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
    does not join (route_edges), arrows both ways between two states bulge
    to opposite sides, self-loops sit on the side of a circle with the most
    room, and each label goes where it overlaps no other label and no
    circle, along its arrow as near its middle as it can. The figure is
    drawn at UNIT_INCHES per layout unit, so it grows with the machine.
    """
    names = [str(s) for s in range(machine.num_states)] if names is None else names
    pos = np.asarray(graph_layout(machine) if positions is None else positions, dtype=np.float64)
    labels = edge_labels(machine, symbols)
    fig = plt.figure()
    size = GRAPH_FONT
    paths = route_edges(pos, [e for e in labels if e[0] != e[1]], radius)
    all_points = np.vstack([pos] + [thin(p, 60) for p in paths.values()])
    # the arrow into the start state, from the freest side
    start_c = pos[machine.initial]
    best = None
    for u in DIRECTIONS[2:] + DIRECTIONS[:2]:
        seg = start_c + np.outer(np.linspace(radius + 0.5, radius, 20), u)
        gap = circle_gap(seg, pos, (machine.initial,), radius)
        rank = (gap < CLEARANCE, crossings(seg, np.zeros((0, 2, 2))) + inside(all_points, (
            seg[:, 0].min() - 0.05, seg[:, 1].min() - 0.05, seg[:, 0].max() + 0.05, seg[:, 1].max() + 0.05)))
        if best is None or rank < best[0]:
            best = (rank, seg)
    start_arrow = best[1]
    # node texts fitted inside their circles
    node_text, node_font = [], []
    for s in range(machine.num_states):
        text = f"{names[s]}\n{predicted_text(machine, s, symbols)}"
        font = size
        while font > 5:
            w, h = _text_size(fig, text, font)
            if np.hypot(w, h) / 2 <= 0.97 * radius:
                break
            font -= 0.5
        node_text.append(text)
        node_font.append(font)
    # self-loops on the freest side, their labels beyond them
    boxes, placed = [], []  # label boxes (layout units); (text, centre)
    obstacles = np.vstack([all_points, start_arrow])
    loops = {}
    for (s, t), text in labels.items():
        if s != t:
            continue
        tsize = _text_size(fig, text, size, 1.5)
        best = None
        for k, u in enumerate(DIRECTIONS):
            loop, loop_c, rho = loop_path(pos[s], u, radius)
            reach = abs(u[0]) * tsize[0] / 2 + abs(u[1]) * tsize[1] / 2
            box = box_at(loop_c + u * (rho + 0.03 + reach), tsize)
            bad = (circle_gap(loop, pos, (s,), radius) < CLEARANCE or box_hits_circle(box, pos, radius + 0.02)
                   or overlaps(box, boxes))
            rank = (bad, inside(obstacles, (loop[:, 0].min(), loop[:, 1].min(), loop[:, 0].max(), loop[:, 1].max()))
                    + inside(obstacles, box), k)
            if best is None or rank < best[0]:
                best = (rank, loop, box)
        loops[s] = best[1]
        boxes.append(best[2])
        placed.append((text, ((best[2][0] + best[2][2]) / 2, (best[2][1] + best[2][3]) / 2)))
    obstacles = np.vstack([obstacles] + [loop for loop in loops.values()])
    # arrow labels: along the arrow from its middle, else just beside it
    order = sorted(paths, key=lambda e: length(paths[e]))
    for e in order:
        path, text = paths[e], labels[e]
        tsize = _text_size(fig, text, size, 1.5)
        best = None
        for rank_pos, fraction in enumerate((0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82)):
            point, direction = along(path, fraction)
            normal = np.array([-direction[1], direction[0]])
            shift = abs(normal[0]) * tsize[0] / 2 + abs(normal[1]) * tsize[1] / 2 + 0.04
            for k, offset in enumerate((0.0, shift, -shift, 2 * shift, -2 * shift)):
                centre = point + offset * normal
                box = box_at(centre, tsize)
                if box_hits_circle(box, pos, radius + 0.02) or overlaps(box, boxes):
                    continue
                crowd = inside(obstacles, box) - inside(path, box)
                score = crowd + 0.6 * rank_pos + 2.5 * k
                if best is None or score < best[0]:
                    best = (score, centre, box)
        if best is None:  # nowhere free: the middle of the arrow
            point, _ = along(path, 0.5)
            best = (0, point, box_at(point, tsize))
        boxes.append(best[2])
        placed.append((text, tuple(best[1])))
    # the figure, sized so that one layout unit is UNIT_INCHES
    every = np.vstack([pos - radius, pos + radius, obstacles, np.array(boxes).reshape(-1, 2)])
    lo, hi = every.min(0) - 0.12, every.max(0) + 0.12
    title = title + "\n(each circle: the state's name and the symbol(s) it predicts)"
    title_w = _text_size(fig, title, 10)[0] * UNIT_INCHES
    width, height = (hi - lo) * UNIT_INCHES
    fig_w, top = max(width + 0.2, title_w + 0.3), 0.55
    fig.set_size_inches(fig_w, height + 0.1 + top)
    ax = fig.add_axes(((fig_w - width) / 2 / fig_w, 0.05 / (height + 0.1 + top), width / fig_w,
                       height / (height + 0.1 + top)))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.axis("off")
    fig.text(0.5, 1 - 0.08 / (height + 0.1 + top), title, ha="center", va="top", fontsize=10)
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    style = "-|>,head_length=0.5,head_width=0.22"
    for path in list(paths.values()) + list(loops.values()) + [start_arrow]:
        ax.add_patch(FancyArrowPatch(path=Path(thin(path, 120)), arrowstyle=style, mutation_scale=12, lw=1.0,
                                     color="k", zorder=2))
    for s in range(machine.num_states):
        ax.add_patch(plt.Circle(pos[s], radius, fc="white", ec="k", lw=2.0 if s == machine.initial else 1.0,
                                zorder=3))
        ax.text(*pos[s], node_text[s], ha="center", va="center", fontsize=node_font[s], zorder=4)
    for text, centre in placed:
        ax.text(*centre, text, ha="center", va="center", fontsize=size, zorder=5,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
    fig.fsm_layout = {"positions": pos, "radius": radius, "paths": paths, "loops": loops,
                      "start_arrow": start_arrow, "label_boxes": boxes}
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
