"""Figures for an extracted machine: states in the network's state space, the machine as a graph, LSTM context units.

Each function takes the ``plt`` from runtime.pyplot and returns a new
figure, which the caller saves with runtime.save_figure. The graph is laid
out by ``graph_layout`` (each state at its slot in the language's terms,
fsm_report.state_slots, else in an extra row), its arrows routed round the
circles by ``route_edges`` (candidate curves, then a grid search where none
keeps clear), and its labels placed where they overlap nothing;
``graph_figure`` leaves what it drew in ``fig.fsm_layout``.
"""
import numpy as np

from fsm_extract import convex_hull

NODE_RADIUS = 0.3  # graph circles, in layout units (the circles in a row are 1 apart)
ROW = 1.25  # layout units between the rows of a graph laid out by the language's states
UNIT_INCHES = 0.8  # the graph figure's scale: inches per layout unit
CLEARANCE = 0.07  # least gap (layout units) between an arrow and a circle it does not join
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


def graph_layout(machine, slots=None):
    """Each state's place in the graph, in layout units (circles in a row 1 apart, rows ROW apart).

    slots: per state an (x, y) or None, e.g. fsm_report.state_slots (by
    the language's own states). A state without a slot, or whose slot is
    too close to one taken before, goes to an extra row below, near the
    states it is joined to. Without any slot: columns by the distance from
    the start (``layers``).
    """
    count = machine.num_states
    if slots is None or all(s is None for s in slots):
        return layers(machine) * np.array([1.3, 1.0])
    pos = np.full((count, 2), np.nan)
    for s in range(count):
        if slots[s] is None:
            continue
        p = np.asarray(slots[s], dtype=np.float64)
        placed = pos[~np.isnan(pos[:, 0])]
        if len(placed) == 0 or np.linalg.norm(placed - p, axis=1).min() >= 0.95:
            pos[s] = p
    levels = sorted(set(pos[~np.isnan(pos[:, 1]), 1].tolist()), reverse=True)
    moved = {levels[0]: levels[0]} if levels else {}
    for upper, lower in zip(levels[:-1], levels[1:]):  # close up rows left empty (their states merged away)
        gap = upper - lower
        moved[lower] = moved[upper] - (ROW if gap > 1.5 * ROW else gap)
    for s in range(count):
        if not np.isnan(pos[s, 1]):
            pos[s, 1] = moved[pos[s, 1]]
    loose = [s for s in range(count) if np.isnan(pos[s, 0])]
    if loose:
        nxt, placed = machine.next_state, ~np.isnan(pos[:, 0])
        want = {}
        for s in loose:
            near = [pos[t, 0] for t in range(count) if placed[t] and ((nxt[s] == t).any() or (nxt[t] == s).any())]
            want[s] = float(np.mean(near)) if near else float(np.nanmean(pos[:, 0]))
        y, last = np.nanmin(pos[:, 1]) - ROW, -np.inf
        for s in sorted(loose, key=lambda s: (want[s], s)):
            last = max(want[s], last + 1.0)
            pos[s] = (last, y)
    return pos


def _bezier(ctrl, n):
    """n points along the Bezier curve with these control points (de Casteljau)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = [np.asarray(c, dtype=np.float64) for c in ctrl]
    while len(pts) > 1:
        pts = [(1 - t) * a + t * b for a, b in zip(pts[:-1], pts[1:])]
    return pts[0]


def _boundary(inside, outside, centre, radius):
    """The point between two points (one inside the circle, one outside) where the segment meets the circle."""
    p, d = inside - centre, outside - inside
    a, b, c = d @ d, 2 * p @ d, p @ p - radius**2
    s = (-b + np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a) if a > 0 else 0.0
    return inside + min(max(s, 0.0), 1.0) * d


def _trim(path, a, b, radius):
    """The part of a centre-to-centre path outside both end circles, or None if it dips back into one."""
    da, db = np.linalg.norm(path - a, axis=1), np.linalg.norm(path - b, axis=1)
    outside_a, outside_b = np.nonzero(da >= radius)[0], np.nonzero(db >= radius)[0]
    if len(outside_a) == 0 or len(outside_b) == 0:
        return None
    i, j = outside_a[0], outside_b[-1]
    if j <= i or (da[i:j + 1] < radius).any() or (db[i:j + 1] < radius).any():
        return None
    first = _boundary(path[i - 1], path[i], a, radius) if i > 0 else path[i]
    last = _boundary(path[j + 1], path[j], b, radius) if j < len(path) - 1 else path[j]
    return np.vstack([first, path[i:j + 1], last])


def _length(path):
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


def _thin(path, k=24):
    """At most k points spread along a path (for the cheap crossing and closeness checks)."""
    return path[np.unique(np.linspace(0, len(path) - 1, min(k, len(path))).round().astype(int))]


def _crossings(path, others):
    """How many times a path properly crosses the segments in ``others`` ((M, 2, 2) array)."""
    if len(others) == 0:
        return 0
    p = _thin(path)
    a0, a1 = p[:-1, None], p[1:, None]
    b0, b1 = others[None, :, 0], others[None, :, 1]

    def orient(o, x, y):
        return (x[..., 0] - o[..., 0]) * (y[..., 1] - o[..., 1]) - (x[..., 1] - o[..., 1]) * (y[..., 0] - o[..., 0])

    hit = (orient(a0, a1, b0) * orient(a0, a1, b1) < 0) & (orient(b0, b1, a0) * orient(b0, b1, a1) < 0)
    return int(hit.sum())


def _circle_gap(path, centres, skip, radius):
    """The least distance from the path to the edge of any circle not in ``skip``."""
    others = np.delete(centres, list(skip), axis=0)
    if len(others) == 0:
        return np.inf
    return float(np.linalg.norm(path[:, None, :] - others[None], axis=2).min() - radius)


def _edge_candidates(a, b, pair, wide=False):
    """Curves from centre a to centre b: straight, arcs bulging either way, bridges up/down/left/right.

    pair: there is an arrow back from b to a, so only arcs bulging to the
    left of the direction of travel (the arrow back bulges to its own left,
    the other side). wide: the wider detours (bigger bulges and bridges,
    S-curves), tried when none of the others keeps clear of the circles.
    """
    d = b - a
    length = float(np.linalg.norm(d))
    normal = np.array([-d[1], d[0]]) / length
    n = max(40, int(25 * length))
    out = []
    bulges = (3.5, 4.5, 6.0) if wide else (0.0, 0.18, 0.3, 0.45, 0.65, 0.9, 1.2, 1.6, 2.1, 2.7)
    for h in bulges:
        for sign in ((1.0,) if pair else (1.0, -1.0)):
            if h == 0 and (pair or sign < 0):
                continue
            out.append(_bezier([a, (a + b) / 2 + 2 * h * sign * normal, b], n + int(30 * h)))
    for v in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)):
        v = np.array(v)
        for h in ((2.6, 3.3, 4.2) if wide else (0.55, 0.8, 1.1, 1.5, 2.0)):
            out.append(_bezier([a, a + 1.33 * h * v, b + 1.33 * h * v, b], n + int(40 * h)))
            if wide:
                out.append(_bezier([a, a + 1.33 * h * v, b - 1.33 * h * v, b], n + int(40 * h)))
    return out


def _clear_segment(p, q, centres, room):
    """Whether the segment p-q keeps ``room`` from every centre."""
    count = max(2, int(np.linalg.norm(q - p) / 0.05) + 1)
    pts = p + np.linspace(0, 1, count)[:, None] * (q - p)
    return len(centres) == 0 or np.linalg.norm(pts[:, None] - centres[None], axis=2).min() >= room


def _grid_route(a, b, pos, skip, radius, clearance, step=0.1):
    """A path from centre a to centre b round every other circle, found on a grid (or None).

    Breadth-first search over the free cells (8 neighbours), the cell path
    pulled taut into few straight pieces, their corners then rounded
    (Chaikin) where that keeps clear of the circles.
    """
    others = np.delete(pos, list(skip), axis=0)
    lo, hi = pos.min(0) - 2.0, pos.max(0) + 2.0
    xs, ys = np.arange(lo[0], hi[0] + step, step), np.arange(lo[1], hi[1] + step, step)
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1)
    room = radius + clearance + 0.12
    free = np.ones(grid.shape[:2], dtype=bool)
    for c in others:
        free &= np.hypot(grid[..., 0] - c[0], grid[..., 1] - c[1]) >= room
    cell = lambda p: (int(round((p[0] - lo[0]) / step)), int(round((p[1] - lo[1]) / step)))
    start, goal = cell(a), cell(b)
    free[start] = free[goal] = True
    dist = np.full(free.shape, -1, dtype=np.int64)
    dist[start] = 0
    frontier = np.zeros(free.shape, dtype=bool)
    frontier[start] = True
    moves = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    k = 0
    while dist[goal] < 0 and frontier.any():
        k += 1
        grown = np.zeros_like(frontier)
        padded = np.pad(frontier, 1)
        for dx, dy in moves:
            grown |= padded[1 + dx:1 + dx + free.shape[0], 1 + dy:1 + dy + free.shape[1]]
        frontier = grown & free & (dist < 0)
        dist[frontier] = k
    if dist[goal] < 0:
        return None
    cells, here = [goal], goal
    while here != start:
        here = next((here[0] + dx, here[1] + dy) for dx, dy in moves
                    if 0 <= here[0] + dx < free.shape[0] and 0 <= here[1] + dy < free.shape[1]
                    and dist[here[0] + dx, here[1] + dy] == dist[here] - 1)
        cells.append(here)
    pts = np.vstack([b, grid[tuple(np.array(cells[1:-1]).T)] if len(cells) > 2 else np.zeros((0, 2)), a])[::-1]
    taut, i = [pts[0]], 0
    while i < len(pts) - 1:
        j = i + 1
        while j + 1 < len(pts) and _clear_segment(pts[i], pts[j + 1], others, radius + clearance + 0.06):
            j += 1
        taut.append(pts[j])
        i = j
    best = np.array(taut)
    for _ in range(3):
        cut = [best[0]]
        for p, q in zip(best[:-1], best[1:]):
            cut += [0.75 * p + 0.25 * q, 0.25 * p + 0.75 * q]
        cut = np.array(cut[:1] + cut[2:-1] + [best[-1]])
        if not all(_clear_segment(p, q, others, radius + clearance) for p, q in zip(cut[:-1], cut[1:])):
            break
        best = cut
    dense = np.vstack([p + np.linspace(0, 1, max(2, int(np.linalg.norm(q - p) / 0.04)))[:-1, None] * (q - p)
                       for p, q in zip(best[:-1], best[1:])] + [best[-1:]])
    return _trim(dense, a, b, radius)


def route_edges(pos, edges, radius=NODE_RADIUS, clearance=CLEARANCE):
    """A path for each arrow that passes no circle but its own two, with few crossings.

    edges: (s, t) pairs, s != t. Short arrows are routed first; each takes
    the cheapest of its candidate curves (_edge_candidates) that keeps
    ``clearance`` from every other circle: length, plus a penalty per
    crossing of an arrow routed before and for running close along one.
    Where no candidate keeps clear, a path is searched for on a grid round
    the circles (_grid_route). Returns {(s, t): (N, 2) points from the edge
    of s's circle to the edge of t's}.
    """
    pairs = set(edges)
    routed, segments, points = {}, np.zeros((0, 2, 2)), np.zeros((0, 2))
    for s, t in sorted(edges, key=lambda e: (np.linalg.norm(pos[e[1]] - pos[e[0]]), e)):
        a, b = pos[s], pos[t]
        best = closest = None
        for wide in (False, True):
            curves = sorted(((_length(c), c) for c in _edge_candidates(a, b, (t, s) in pairs, wide)),
                            key=lambda lc: lc[0])
            for rough, curve in curves:
                if best is not None and rough - 2 * radius >= best[0]:
                    break  # the cost is at least the length
                path = _trim(curve, a, b, radius)
                if path is None:
                    continue
                gap = _circle_gap(path, pos, (s, t), radius)
                if gap < clearance:
                    if closest is None or gap > closest[0]:
                        closest = (gap, path)
                    continue
                cost = _length(path) + 0.8 * _crossings(path, segments)
                inner = _thin(path, 24)
                inner = inner[(np.linalg.norm(inner - a, axis=1) > radius + 0.2)
                              & (np.linalg.norm(inner - b, axis=1) > radius + 0.2)]
                if len(points) and len(inner):
                    cost += 4.0 * (np.linalg.norm(inner[:, None] - points[None], axis=2).min(1) < 0.12).mean()
                if best is None or cost < best[0]:
                    best = (cost, path)
            if best is not None:
                break
        path = best[1] if best is not None else _grid_route(a, b, pos, (s, t), radius, clearance)
        path = closest[1] if path is None else path
        routed[(s, t)] = path
        thin = _thin(path)
        segments = np.vstack([segments, np.stack([thin[:-1], thin[1:]], 1)])
        points = np.vstack([points, _thin(path, 30)])
    return routed


def _loop_path(centre, u, radius):
    """A small loop on the circle round centre, bulging along the unit vector u, ending where it re-enters."""
    rho = 0.55 * radius
    dist = radius + 0.5 * rho
    loop_c = centre + dist * u
    x = (dist**2 + radius**2 - rho**2) / (2 * dist)
    h = np.sqrt(max(radius**2 - x**2, 0.0))
    normal = np.array([-u[1], u[0]])
    p0, p1 = centre + x * u - h * normal, centre + x * u + h * normal
    a0, a1 = np.arctan2(*(p0 - loop_c)[::-1]), np.arctan2(*(p1 - loop_c)[::-1])
    if a1 <= a0:
        a1 += 2 * np.pi
    angles = np.linspace(a0, a1, 40)
    return loop_c + rho * np.stack([np.cos(angles), np.sin(angles)], 1), loop_c, rho


DIRECTIONS = [np.array(v) / np.linalg.norm(v) for v in
              ((0, 1), (0, -1), (-1, 0), (1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1))]


def _box_hits_circle(box, centres, radius, skip=()):
    """Whether a box (x0, y0, x1, y1) comes within radius of any centre not in skip."""
    cx = np.clip(centres[:, 0], box[0], box[2])
    cy = np.clip(centres[:, 1], box[1], box[3])
    d = np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)
    d[list(skip)] = np.inf
    return bool((d < radius).any())


def _overlaps(box, boxes, pad=0.03):
    return any(box[0] - pad < b[2] and b[0] < box[2] + pad and box[1] - pad < b[3] and b[1] < box[3] + pad
               for b in boxes)


def _box_at(centre, size):
    return (centre[0] - size[0] / 2, centre[1] - size[1] / 2, centre[0] + size[0] / 2, centre[1] + size[1] / 2)


def _inside(points, box):
    return int(((points[:, 0] > box[0]) & (points[:, 0] < box[2]) & (points[:, 1] > box[1])
                & (points[:, 1] < box[3])).sum())


def _along(path, fraction):
    """The point a fraction of the way along a path (by length), and the unit direction there."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    i = int(np.clip(np.searchsorted(cum, fraction * cum[-1]), 1, len(path) - 1))
    d = path[i] - path[i - 1]
    return path[i], d / (np.linalg.norm(d) or 1.0)


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
    all_points = np.vstack([pos] + [_thin(p, 60) for p in paths.values()])
    # the arrow into the start state, from the freest side
    start_c = pos[machine.initial]
    best = None
    for u in DIRECTIONS[2:] + DIRECTIONS[:2]:
        seg = start_c + np.outer(np.linspace(radius + 0.5, radius, 20), u)
        gap = _circle_gap(seg, pos, (machine.initial,), radius)
        rank = (gap < CLEARANCE, _crossings(seg, np.zeros((0, 2, 2))) + _inside(all_points, (
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
            loop, loop_c, rho = _loop_path(pos[s], u, radius)
            reach = abs(u[0]) * tsize[0] / 2 + abs(u[1]) * tsize[1] / 2
            box = _box_at(loop_c + u * (rho + 0.03 + reach), tsize)
            bad = (_circle_gap(loop, pos, (s,), radius) < CLEARANCE or _box_hits_circle(box, pos, radius + 0.02)
                   or _overlaps(box, boxes))
            rank = (bad, _inside(obstacles, (loop[:, 0].min(), loop[:, 1].min(), loop[:, 0].max(), loop[:, 1].max()))
                    + _inside(obstacles, box), k)
            if best is None or rank < best[0]:
                best = (rank, loop, box)
        loops[s] = best[1]
        boxes.append(best[2])
        placed.append((text, ((best[2][0] + best[2][2]) / 2, (best[2][1] + best[2][3]) / 2)))
    obstacles = np.vstack([obstacles] + [loop for loop in loops.values()])
    # arrow labels: along the arrow from its middle, else just beside it
    order = sorted(paths, key=lambda e: _length(paths[e]))
    for e in order:
        path, text = paths[e], labels[e]
        tsize = _text_size(fig, text, size, 1.5)
        best = None
        for rank_pos, fraction in enumerate((0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82)):
            point, direction = _along(path, fraction)
            normal = np.array([-direction[1], direction[0]])
            shift = abs(normal[0]) * tsize[0] / 2 + abs(normal[1]) * tsize[1] / 2 + 0.04
            for k, offset in enumerate((0.0, shift, -shift, 2 * shift, -2 * shift)):
                centre = point + offset * normal
                box = _box_at(centre, tsize)
                if _box_hits_circle(box, pos, radius + 0.02) or _overlaps(box, boxes):
                    continue
                crowd = _inside(obstacles, box) - _inside(path, box)
                score = crowd + 0.6 * rank_pos + 2.5 * k
                if best is None or score < best[0]:
                    best = (score, centre, box)
        if best is None:  # nowhere free: the middle of the arrow
            point, _ = _along(path, 0.5)
            best = (0, point, _box_at(point, tsize))
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
        ax.add_patch(FancyArrowPatch(path=Path(_thin(path, 120)), arrowstyle=style, mutation_scale=12, lw=1.0,
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
