"""Geometry of a machine's figures: where each state goes, how arrows route round the circles, where
each label goes, and the small tests (boxes, circles, crossings) that keep them clear of each other.

Nothing here draws; lab.machines.drawing turns these positions, paths and label places into figures.
The graph works in layout units (circles in a row 1 apart); the scatter's labels in display pixels.
"""
import numpy as np

from lab.machines.extract import convex_hull
from lab.recurrent.states import START


NODE_RADIUS = 0.3  # graph circles, in layout units (the circles in a row are 1 apart)

ROW = 1.25  # layout units between the rows of a graph laid out by the language's states

CLEARANCE = 0.07  # least gap (layout units) between an arrow and a circle it does not join

DIRECTIONS = [np.array(v) / np.linalg.norm(v) for v in
              ((0, 1), (0, -1), (-1, 0), (1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1))]

ALONG = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82)  # where an arrow's label is tried, in order


# ---------------------------------------------------------------- where the states go

def language_slot(namer, key):
    """Where the language state ``key`` goes in the graph (layout units), or None; ``namer``: a LanguageStates.

    Counting, one phase after the A's: the A's in a row, each above the
    B it leads to; the B's in the row below, right to left, so the last
    one sits under A1. Two phases: the A's in the top row; below them a
    row of B's for each n (n = length on top), starting under A_n; the
    C's in the bottom row, right to left, each below the last B that
    leads to it. Reber: by the grammar's node; embedded: the T branch
    above, the P branch below.
    """
    if namer.kind == "counting":
        return _counting_slot(namer, key)
    if namer.kind == "reber":
        place = {0: (0, 0), 1: (1, 0), 2: (2, 1), 3: (2, -1), 4: (3, 1), 5: (3, -1), 6: (4, 0)}
        node = 0 if key == START else key[1]
        return None if node not in place else (1.4 * place[node][0], 1.1 * place[node][1])
    inner = {0: (2, 0), 1: (3, 0), 2: (4, 1), 3: (4, -1), 4: (5, 1), 5: (5, -1), 6: (6, 0), 7: (7, 0)}
    s = 0 if key == START else key[1]
    if s in (0, 1, 30):
        x, y = {0: 0, 1: 1, 30: 8}[s], 0
    elif s // 10 in (1, 2) and s % 10 in inner:
        x, dy = inner[s % 10]
        y = dy + (2.2 if s < 20 else -2.2)
    else:
        return None
    return (1.2 * x, 1.1 * y)


def _counting_slot(namer, key):
    """language_slot for the counting languages."""
    mult, length = namer.lang.mult, namer.lang.length
    if key == START:
        return (-1.0, 0.0) if len(mult) == 1 else (0.0, 0.0)
    phase, count = key[0], key[1]
    if len(mult) == 1:
        m = mult[0]
        return (float(m * count - 1), 0.0) if phase == 0 else (float(count), -ROW)
    if len(mult) == 2:
        m1, m2 = mult
        scale = max(1.0, m2 / (m1 + 1))
        if phase == 0:
            return (scale * count, 0.0)
        if phase == 1:
            n = key[2] // m2
            return (scale * (n + m1 * n - 1 - count), -ROW * (length - n + 1))
        return (scale * ((m1 + 1) * (count + 1) / m2 - 1), -ROW * (length + 1))
    if phase == 0:  # three or more phases: a row per phase, by the symbols still to come
        return (float(count), 0.0)
    return (float(sum(key[1:])), -ROW * phase)


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

    slots: per state an (x, y) or None, e.g. naming.state_slots (by the
    language's own states). A state without a slot, or whose slot is too
    close to one taken before, goes to an extra row below, near the states
    it is joined to. Without any slot: columns by the distance from the
    start (``layers``).
    """
    if slots is None or all(s is None for s in slots):
        return layers(machine) * np.array([1.3, 1.0])
    pos = _take_slots(slots)
    _close_up_rows(pos)
    _place_loose(machine, pos)
    return pos


def _take_slots(slots):
    """Each state at its slot, unless it has none or one taken before lies within 0.95 (then NaN)."""
    pos = np.full((len(slots), 2), np.nan)
    for s, slot in enumerate(slots):
        if slot is None:
            continue
        p = np.asarray(slot, dtype=np.float64)
        placed = pos[~np.isnan(pos[:, 0])]
        if len(placed) == 0 or np.linalg.norm(placed - p, axis=1).min() >= 0.95:
            pos[s] = p
    return pos


def _close_up_rows(pos):
    """Move the rows up over rows left empty (their states merged away), in place."""
    levels = sorted(set(pos[~np.isnan(pos[:, 1]), 1].tolist()), reverse=True)
    moved = {levels[0]: levels[0]} if levels else {}
    for upper, lower in zip(levels[:-1], levels[1:]):
        gap = upper - lower
        moved[lower] = moved[upper] - (ROW if gap > 1.5 * ROW else gap)
    for s in range(len(pos)):
        if not np.isnan(pos[s, 1]):
            pos[s, 1] = moved[pos[s, 1]]


def _place_loose(machine, pos):
    """The states without a place (NaN) in a row below the others, each near the states it is joined to."""
    count = machine.num_states
    loose = [s for s in range(count) if np.isnan(pos[s, 0])]
    if not loose:
        return
    nxt, placed = machine.next_state, ~np.isnan(pos[:, 0])
    want = {}
    for s in loose:
        near = [pos[t, 0] for t in range(count) if placed[t] and ((nxt[s] == t).any() or (nxt[t] == s).any())]
        want[s] = float(np.mean(near)) if near else float(np.nanmean(pos[:, 0]))
    y, last = np.nanmin(pos[:, 1]) - ROW, -np.inf
    for s in sorted(loose, key=lambda s: (want[s], s)):
        last = max(want[s], last + 1.0)
        pos[s] = (last, y)


# ---------------------------------------------------------------- paths and the tests on them

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


def length(path):
    """The length of a path (sum of its segments)."""
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


def thin(path, k=24):
    """At most k points spread along a path (for the cheap crossing and closeness checks)."""
    return path[np.unique(np.linspace(0, len(path) - 1, min(k, len(path))).round().astype(int))]


def crossings(path, others):
    """How many times a path properly crosses the segments in ``others`` ((M, 2, 2) array)."""
    if len(others) == 0:
        return 0
    p = thin(path)
    a0, a1 = p[:-1, None], p[1:, None]
    b0, b1 = others[None, :, 0], others[None, :, 1]

    def orient(o, x, y):
        return (x[..., 0] - o[..., 0]) * (y[..., 1] - o[..., 1]) - (x[..., 1] - o[..., 1]) * (y[..., 0] - o[..., 0])

    hit = (orient(a0, a1, b0) * orient(a0, a1, b1) < 0) & (orient(b0, b1, a0) * orient(b0, b1, a1) < 0)
    return int(hit.sum())


def circle_gap(path, centres, skip, radius):
    """The least distance from the path to the edge of any circle not in ``skip``."""
    others = np.delete(centres, list(skip), axis=0)
    if len(others) == 0:
        return np.inf
    return float(np.linalg.norm(path[:, None, :] - others[None], axis=2).min() - radius)


def along(path, fraction):
    """The point a fraction of the way along a path (by length), and the unit direction there."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    i = int(np.clip(np.searchsorted(cum, fraction * cum[-1]), 1, len(path) - 1))
    d = path[i] - path[i - 1]
    return path[i], d / (np.linalg.norm(d) or 1.0)


# ---------------------------------------------------------------- arrows round the circles

def _edge_candidates(a, b, pair, wide=False):
    """Curves from centre a to centre b: straight, arcs bulging either way, bridges up/down/left/right.

    pair: there is an arrow back from b to a, so only arcs bulging to the
    left of the direction of travel (the arrow back bulges to its own left,
    the other side). wide: the wider detours (bigger bulges and bridges,
    S-curves), tried when none of the others keeps clear of the circles.
    """
    d = b - a
    span = float(np.linalg.norm(d))
    normal = np.array([-d[1], d[0]]) / span
    n = max(40, int(25 * span))
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


def _route_cost(path, a, b, radius, segments, points):
    """An arrow's cost: its length, plus a penalty per crossing and for running close along arrows routed before."""
    cost = length(path) + 0.8 * crossings(path, segments)
    inner = thin(path, 24)
    away = radius + 0.2  # the ends, where every arrow into a circle runs close to the others, do not count
    inner = inner[(np.linalg.norm(inner - a, axis=1) > away) & (np.linalg.norm(inner - b, axis=1) > away)]
    if len(points) and len(inner):
        cost += 4.0 * (np.linalg.norm(inner[:, None] - points[None], axis=2).min(1) < 0.12).mean()
    return cost


def _cheapest_curve(pos, s, t, pair, radius, clearance, segments, points):
    """The cheapest candidate curve from s to t that keeps clear of the other circles (or None), and the
    candidate that comes closest to doing so (for when nothing else will do)."""
    a, b = pos[s], pos[t]
    best = closest = None
    for wide in (False, True):
        curves = sorted(((length(c), c) for c in _edge_candidates(a, b, pair, wide)), key=lambda lc: lc[0])
        for rough, curve in curves:
            if best is not None and rough - 2 * radius >= best[0]:
                break  # the cost is at least the length
            path = _trim(curve, a, b, radius)
            if path is None:
                continue
            gap = circle_gap(path, pos, (s, t), radius)
            if gap < clearance:
                if closest is None or gap > closest[0]:
                    closest = (gap, path)
                continue
            cost = _route_cost(path, a, b, radius, segments, points)
            if best is None or cost < best[0]:
                best = (cost, path)
        if best is not None:
            break
    return (None if best is None else best[1]), (None if closest is None else closest[1])


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
        path, closest = _cheapest_curve(pos, s, t, (t, s) in pairs, radius, clearance, segments, points)
        if path is None:
            path = _grid_route(pos[s], pos[t], pos, (s, t), radius, clearance)
        path = closest if path is None else path
        routed[(s, t)] = path
        sparse = thin(path)
        segments = np.vstack([segments, np.stack([sparse[:-1], sparse[1:]], 1)])
        points = np.vstack([points, thin(path, 30)])
    return routed


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
    free = np.ones(grid.shape[:2], dtype=bool)
    for c in others:
        free &= np.hypot(grid[..., 0] - c[0], grid[..., 1] - c[1]) >= radius + clearance + 0.12
    start, goal = (tuple(int(round(v)) for v in (p - lo) / step) for p in (a, b))
    free[start] = free[goal] = True
    cells = _cell_path(free, start, goal)
    if cells is None:
        return None
    pts = np.vstack([b, grid[tuple(np.array(cells[1:-1]).T)] if len(cells) > 2 else np.zeros((0, 2)), a])[::-1]
    corners = _round_corners(_pull_taut(pts, others, radius + clearance + 0.06), others, radius + clearance)
    dense = np.vstack([p + np.linspace(0, 1, max(2, int(np.linalg.norm(q - p) / 0.04)))[:-1, None] * (q - p)
                       for p, q in zip(corners[:-1], corners[1:])] + [corners[-1:]])
    return _trim(dense, a, b, radius)


def _cell_path(free, start, goal):
    """The cells of a shortest 8-neighbour path over the free cells, from goal back to start (or None)."""
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
    return cells


def _pull_taut(pts, centres, room):
    """The corners of a path pulled taut: from each corner straight to the farthest point still in view."""
    taut, i = [pts[0]], 0
    while i < len(pts) - 1:
        j = i + 1
        while j + 1 < len(pts) and _clear_segment(pts[i], pts[j + 1], centres, room):
            j += 1
        taut.append(pts[j])
        i = j
    return np.array(taut)


def _round_corners(corners, centres, room, rounds=3):
    """Corners cut (Chaikin) up to ``rounds`` times, as long as every piece keeps ``room`` from the centres."""
    for _ in range(rounds):
        cut = [corners[0]]
        for p, q in zip(corners[:-1], corners[1:]):
            cut += [0.75 * p + 0.25 * q, 0.25 * p + 0.75 * q]
        cut = np.array(cut[:1] + cut[2:-1] + [corners[-1]])
        if not all(_clear_segment(p, q, centres, room) for p, q in zip(cut[:-1], cut[1:])):
            break
        corners = cut
    return corners


def loop_path(centre, u, radius):
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


# ---------------------------------------------------------------- boxes (x0, y0, x1, y1)

def box_at(centre, size):
    """The box of the given (width, height) centred on a point."""
    return (centre[0] - size[0] / 2, centre[1] - size[1] / 2, centre[0] + size[0] / 2, centre[1] + size[1] / 2)


def box_hits_circle(box, centres, radius, skip=()):
    """Whether a box comes within radius of any centre not in skip."""
    cx = np.clip(centres[:, 0], box[0], box[2])
    cy = np.clip(centres[:, 1], box[1], box[3])
    d = np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)
    d[list(skip)] = np.inf
    return bool((d < radius).any())


def overlaps(box, boxes, pad=0.03):
    """Whether a box comes within ``pad`` of any of the boxes."""
    return any(box[0] - pad < b[2] and b[0] < box[2] + pad and box[1] - pad < b[3] and b[1] < box[3] + pad
               for b in boxes)


def inside(points, box):
    """How many of the points lie strictly inside the box."""
    return int(((points[:, 0] > box[0]) & (points[:, 0] < box[2]) & (points[:, 1] > box[1])
                & (points[:, 1] < box[3])).sum())


def _bounds(points, pad=0.0):
    """The box round some points, ``pad`` wider on every side."""
    return (points[:, 0].min() - pad, points[:, 1].min() - pad, points[:, 0].max() + pad, points[:, 1].max() + pad)


# ---------------------------------------------------------------- the graph: arrows and labels

def fit_font(size_at, radius, largest, smallest=5.0):
    """The largest font size, from ``largest`` down by half points to ``smallest``, whose text fits in the circle.

    size_at: font size -> (width, height) of the text, in layout units.
    """
    font = largest
    while font > smallest:
        if np.hypot(*size_at(font)) / 2 <= 0.97 * radius:
            break
        font -= 0.5
    return font


def start_arrow(pos, initial, radius, obstacles):
    """The short straight arrow into the initial state, from the side that keeps clear of the circles and
    has the fewest of the ``obstacles`` (points on the arrows) near it."""
    best = None
    for u in DIRECTIONS[2:] + DIRECTIONS[:2]:
        seg = pos[initial] + np.outer(np.linspace(radius + 0.5, radius, 20), u)
        rank = (circle_gap(seg, pos, (initial,), radius) < CLEARANCE, inside(obstacles, _bounds(seg, 0.05)))
        if best is None or rank < best[0]:
            best = (rank, seg)
    return best[1]


def place_loops(pos, sizes, radius, obstacles, boxes):
    """A self-loop for each state in ``sizes`` (state: its label's (width, height)), on the side of its circle
    with the most room, and its label just beyond it.

    A side is refused where the loop comes near another circle or its
    label meets a circle or a box in ``boxes``; among the others the one
    with the fewest obstacle points under the loop and the label wins.
    Appends the label boxes to ``boxes``; returns {state: (loop path, label centre)}.
    """
    placed = {}
    for s, size in sizes.items():
        best = None
        for k, u in enumerate(DIRECTIONS):
            loop, loop_c, rho = loop_path(pos[s], u, radius)
            reach = abs(u[0]) * size[0] / 2 + abs(u[1]) * size[1] / 2
            box = box_at(loop_c + u * (rho + 0.03 + reach), size)
            bad = (circle_gap(loop, pos, (s,), radius) < CLEARANCE or box_hits_circle(box, pos, radius + 0.02)
                   or overlaps(box, boxes))
            rank = (bad, inside(obstacles, _bounds(loop)) + inside(obstacles, box), k)
            if best is None or rank < best[0]:
                best = (rank, loop, box)
        _, loop, box = best
        boxes.append(box)
        placed[s] = (loop, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
    return placed


def place_arrow_labels(paths, sizes, pos, radius, obstacles, boxes):
    """Each arrow's label along it, as near its middle as it can, else just beside it; shortest arrows first.

    A place is refused where the label meets a circle or a box in
    ``boxes``; among the others, the one with the fewest obstacle points
    under it (its own arrow's aside) nearest the middle, on the arrow
    rather than beside it. Where none is free, the middle of the arrow.
    Appends the label boxes to ``boxes``; returns {edge: label centre}.
    """
    placed = {}
    for e in sorted(paths, key=lambda e: length(paths[e])):
        best = None
        for rank, fraction in enumerate(ALONG):
            point, direction = along(paths[e], fraction)
            normal = np.array([-direction[1], direction[0]])
            shift = abs(normal[0]) * sizes[e][0] / 2 + abs(normal[1]) * sizes[e][1] / 2 + 0.04
            for k, offset in enumerate((0.0, shift, -shift, 2 * shift, -2 * shift)):
                centre = point + offset * normal
                box = box_at(centre, sizes[e])
                if box_hits_circle(box, pos, radius + 0.02) or overlaps(box, boxes):
                    continue
                score = inside(obstacles, box) - inside(paths[e], box) + 0.6 * rank + 2.5 * k
                if best is None or score < best[0]:
                    best = (score, centre, box)
        if best is None:
            point, _ = along(paths[e], 0.5)
            best = (0, point, box_at(point, sizes[e]))
        boxes.append(best[2])
        placed[e] = tuple(best[1])
    return placed


def graph_geometry(pos, initial, label_sizes, radius=NODE_RADIUS):
    """Everything a machine's graph draws, in layout units.

    pos: each state's centre (graph_layout); initial: the start state;
    label_sizes: {(s, t): (width, height)} of each arrow's label, s == t
    for a self-loop. Returns a dict: positions, radius, paths ({(s, t):
    arrow path}, route_edges), loops ({s: loop path}), start_arrow,
    labels ({(s, t): label centre}, self-loops first), label_boxes, and
    bounds ((low corner, high corner) of all of it, a margin included).
    """
    pos = np.asarray(pos, dtype=np.float64)
    paths = route_edges(pos, [e for e in label_sizes if e[0] != e[1]], radius)
    obstacles = np.vstack([pos] + [thin(p, 60) for p in paths.values()])
    start = start_arrow(pos, initial, radius, obstacles)
    obstacles = np.vstack([obstacles, start])
    boxes = []
    loops = place_loops(pos, {e[0]: size for e, size in label_sizes.items() if e[0] == e[1]}, radius, obstacles,
                        boxes)
    obstacles = np.vstack([obstacles] + [loop for loop, _ in loops.values()])
    labels = {(s, s): centre for s, (_, centre) in loops.items()}
    labels.update(place_arrow_labels(paths, label_sizes, pos, radius, obstacles, boxes))
    every = np.vstack([pos - radius, pos + radius, obstacles, np.array(boxes).reshape(-1, 2)])
    return {"positions": pos, "radius": radius, "paths": paths, "loops": {s: loop for s, (loop, _) in loops.items()},
            "start_arrow": start, "labels": labels, "label_boxes": boxes,
            "bounds": (every.min(0) - 0.12, every.max(0) + 0.12)}


# ---------------------------------------------------------------- the scatter: outlines, loops and labels

def outline(points, pad):
    """A closed line round a cluster's points, ``pad`` outside them: the convex hull pushed out, or a circle
    round one or two points."""
    hull = convex_hull(points)
    if len(hull) >= 3:
        away = hull - hull.mean(0)
        hull = hull + pad * away / np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-12)
        return np.vstack([hull, hull[:1]])
    mid = hull.mean(0)
    reach = max(np.linalg.norm(hull - mid, axis=1).max() + pad, pad)
    angles = np.linspace(0.0, 2 * np.pi, 49)[:, None]
    return mid + reach * np.hstack([np.cos(angles), np.sin(angles)])


def scatter_loop(centre, outward, radius=9.0, edge=0.0):
    """A small loop beside a cluster (display pixels), pointing along ``outward``, its near side ``edge``
    pixels out (where a name's box ends; 0: none): a dict with its line (from 130 degrees one side of
    ``outward`` round to 130 degrees the other), the arrowhead's tip and the direction it points there, and
    where its label goes (just beyond the loop)."""
    u = np.asarray(outward, dtype=np.float64)
    u = u / (np.linalg.norm(u) or 1.0)
    middle = np.asarray(centre, dtype=np.float64) + (edge + 0.6 * radius if edge else 1.25 * radius) * u
    angles = np.arctan2(u[1], u[0]) + np.radians(np.linspace(130, -130, 40))[:, None]
    line = middle + radius * np.hstack([np.cos(angles), np.sin(angles)])
    return {"line": line, "tip": line[-1], "heading": line[-1] - line[-2], "label": middle + 2.2 * radius * u}


def _exit(box, point, u):
    """How far from a point inside a box, along the unit vector u, the box ends."""
    return min(((box[k + 2] if u[k] > 0 else box[k]) - point[k]) / u[k] for k in (0, 1) if abs(u[k]) > 1e-9)


def loop_places(centres, states, taken):
    """A scatter_loop (display pixels) for each of these clusters that lead to themselves: on the way, of
    eight, nearest to away from the middle of the centres whose line crosses none of the boxes taken, but
    for one over the cluster's centre (a name there, at whose edge the loop then starts)."""
    middle, loops = centres.mean(0), []
    for s in states:
        over = [b for b in taken if _covers(b, centres[s])]
        others = np.asarray([b for b in taken if not _covers(b, centres[s])]).reshape(-1, 4)
        tries = [scatter_loop(centres[s], u, edge=_exit(over[0], centres[s], u) if over else 0.0)
                 for u in sorted(DIRECTIONS, key=lambda u: -float(u @ (centres[s] - middle)))]
        clear = [loop for loop in tries if not _covered(others, loop["line"]).any()]
        loops.append((clear or tries)[0])
    return loops


def arc_spots(p, q, bend=0.2, fractions=ALONG[:7]):
    """Points along matplotlib's arc3 curve (``connectionstyle="arc3,rad=bend"``) from p to q, at these
    fractions of its parameter; p, q in display pixels."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    control = (p + q) / 2 + bend * np.array([q[1] - p[1], p[0] - q[0]])
    return [(1 - f) ** 2 * p + 2 * (1 - f) * f * control + f**2 * q for f in fractions]


def ring_spots(anchor, away=(0.0, 1.0), radii=(14, 22, 32, 44, 58, 74, 92, 114, 140), count=16):
    """Candidate label centres round an anchor (display pixels), nearest first: rings of growing radius,
    each ring's spots in order of nearness to the direction ``away`` (so crowded labels fan outwards)."""
    away = np.asarray(away, dtype=np.float64)
    heading = np.arctan2(away[1], away[0]) if away.any() else np.pi / 2
    turns = sorted((2 * np.pi * k / count for k in range(count)), key=lambda a: min(a, 2 * np.pi - a))
    return [np.asarray(anchor, dtype=np.float64) + r * np.array([np.cos(heading + a), np.sin(heading + a)])
            for r in radii for a in turns]


def _boxes(centres, size):
    """Boxes (K, 4) of one size round K centres."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    half = np.asarray(size, dtype=np.float64) / 2
    return np.hstack([centres - half, centres + half])


def _free(boxes, taken, frame, gap):
    """Which of the boxes (K, 4) keep ``gap`` from every taken box (M, 4) and lie inside the frame box."""
    ok = np.ones(len(boxes), dtype=bool)
    if frame is not None:
        ok &= (boxes[:, 0] >= frame[0]) & (boxes[:, 1] >= frame[1]) & (boxes[:, 2] <= frame[2])
        ok &= boxes[:, 3] <= frame[3]
    if len(taken):
        t = np.asarray(taken, dtype=np.float64)[None]
        b = boxes[:, None]
        meet = ((b[..., 0] - gap < t[..., 2]) & (t[..., 0] < b[..., 2] + gap) & (b[..., 1] - gap < t[..., 3])
                & (t[..., 1] < b[..., 3] + gap))
        ok &= ~meet.any(1)
    return ok


def _covered(boxes, points):
    """How many of the points lie inside each of the boxes (K, 4)."""
    if len(points) == 0:
        return np.zeros(len(boxes))
    p = np.asarray(points, dtype=np.float64)[None]
    b = boxes[:, None]
    return ((p[..., 0] > b[..., 0]) & (p[..., 0] < b[..., 2]) & (p[..., 1] > b[..., 1])
            & (p[..., 1] < b[..., 3])).sum(1)


def place_boxes(items, taken=(), frame=None, gap=2.0, cover_cost=24.0, step=4.0):
    """Greedy label placement (display pixels): each label, in turn, at the best free one of its candidates.

    items: (candidates, (width, height), avoid) triples, candidates the
    centres tried (in order of preference), avoid the points the label
    should rather not cover. A candidate is free where its box keeps
    ``gap`` from the boxes taken (``taken`` and the labels placed before)
    and lies within ``frame`` (x0, y0, x1, y1); among the free ones the
    lowest of (its place in the order + cover_cost per point covered)
    wins. Where no candidate is free, the free spot nearest the first
    candidate on a grid over the frame (``step`` apart); where none at
    all, the first candidate. Returns the chosen centre of each label.
    """
    taken, chosen = [tuple(b) for b in taken], []
    for candidates, size, avoid in items:
        boxes = _boxes(candidates, size)
        ok = _free(boxes, taken, frame, gap)
        if ok.any():
            score = np.arange(len(boxes)) + cover_cost * _covered(boxes, avoid)
            spot = np.asarray(candidates[int(np.argmin(np.where(ok, score, np.inf)))], dtype=np.float64)
        else:
            spot = _nearest_free(np.asarray(candidates[0], dtype=np.float64), size, taken, frame, gap, step)
        taken.append(tuple(_boxes(spot, size)[0]))
        chosen.append(spot)
    return chosen


def _nearest_free(spot, size, taken, frame, gap, step):
    """The centre nearest ``spot`` on a grid over the frame whose box is free (_free), else ``spot`` itself."""
    if frame is None:
        return spot
    xs = np.arange(frame[0] + size[0] / 2, frame[2] - size[0] / 2 + 1e-9, step)
    ys = np.arange(frame[1] + size[1] / 2, frame[3] - size[1] / 2 + 1e-9, step)
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
    if len(grid) == 0:
        return spot
    ok = _free(_boxes(grid, size), taken, frame, gap)
    if not ok.any():
        return spot
    grid = grid[ok]
    return grid[int(np.argmin(np.linalg.norm(grid - spot, axis=1)))]


def crowds(anchors, sizes, gap=2.0):
    """The groups of labels whose boxes would meet if each sat at its anchor (joined through any chain of
    such meetings), each a sorted list of indices; labels alone are left out."""
    boxes = np.vstack([_boxes(a, s) for a, s in zip(anchors, sizes)]) if len(anchors) else np.zeros((0, 4))
    group = list(range(len(boxes)))

    def root(i):
        while group[i] != i:
            i = group[i]
        return i

    for i in range(len(boxes)):
        for j in np.nonzero(~_free(boxes[i + 1:], [boxes[i]], None, gap))[0] + i + 1:
            group[root(int(j))] = root(i)
    found = {}
    for i in range(len(boxes)):
        found.setdefault(root(i), []).append(i)
    return [members for members in found.values() if len(members) > 1]


def crowd_spots(anchors, sizes, taken, frame, avoid, gap=2.0, cover_cost=24.0):
    """Centres for a crowd's labels side by side: in a row above or below their anchors (a column beside
    them where the crowd is taller than wide), in the anchors' order so that the lines to them do not cross.

    Rows nearer the anchors are tried first; the first free one (every
    box keeps ``gap`` from ``taken`` and lies in ``frame``) that covers
    the fewest ``avoid`` points of the nearest few wins. Returns the
    centres, or None where no row is free.
    """
    anchors, sizes = np.asarray(anchors, dtype=np.float64), np.asarray(sizes, dtype=np.float64)
    across = int(np.ptp(anchors[:, 1]) > np.ptp(anchors[:, 0]))  # 0: a row (labels side by side in x)
    order = np.argsort(anchors[:, across], kind="stable")
    widths = sizes[order, across] + gap
    offsets = np.cumsum(widths) - widths / 2 - widths.sum() / 2  # centres along the row, about its middle
    middle = anchors[:, across].mean()
    if frame is not None:  # slide the row into the frame
        low, high = frame[across] + widths.sum() / 2, frame[across + 2] - widths.sum() / 2
        middle = min(max(middle, low), high) if low <= high else middle
    depth = sizes[:, 1 - across].max()
    best = None
    for k, step in enumerate(d * s for d in (1.2, 1.8, 2.5, 3.3, 4.2, 5.2) for s in (1, -1)):
        spots = np.zeros((len(order), 2))
        spots[order, across] = middle + offsets
        edge = anchors[:, 1 - across].max() if step > 0 else anchors[:, 1 - across].min()
        spots[:, 1 - across] = edge + step * depth
        boxes = np.vstack([_boxes(p, s) for p, s in zip(spots, sizes)])
        if not _free(boxes, taken, frame, gap).all() or not _free_among(boxes, gap):
            continue
        score = k + cover_cost * _covered(boxes, avoid).sum()
        if best is None or score < best[0]:
            best = (score, spots)
        if k >= 3 and best is not None:
            break
    return None if best is None else list(best[1])


def _free_among(boxes, gap):
    """Whether no two of the boxes come within ``gap`` of each other."""
    return all(_free(boxes[i + 1:], [boxes[i]], None, gap).all() for i in range(len(boxes) - 1))


def place_labels(items, taken=(), frame=None, gap=2.0):
    """Labels that name things, placed: crowds (labels that would meet at their anchors) side by side in a
    row beside their anchors (crowd_spots), the others, and crowds with no free row, one by one (place_boxes).

    items: (anchor, candidates, (width, height), avoid), as place_boxes
    plus the point each label names. Returns the chosen centre of each.
    """
    chosen, taken = [None] * len(items), [tuple(b) for b in taken]
    for members in crowds([items[i][0] for i in range(len(items))], [items[i][2] for i in range(len(items))], gap):
        avoid = np.vstack([np.zeros((0, 2))] + [np.asarray(items[i][3]).reshape(-1, 2) for i in members])
        spots = crowd_spots([items[i][0] for i in members], [items[i][2] for i in members], taken, frame, avoid,
                            gap)
        for i, spot in zip(members, spots or []):
            chosen[i] = spot
            taken.append(tuple(_boxes(spot, items[i][2])[0]))
    rest = [i for i in range(len(items)) if chosen[i] is None]
    for i, spot in zip(rest, place_boxes([items[i][1:] for i in rest], taken, frame, gap)):
        chosen[i] = spot
    return chosen


def _covers(box, point):
    """Whether a box (x0, y0, x1, y1) holds the point."""
    return box[0] < point[0] < box[2] and box[1] < point[1] < box[3]


def name_places(centres, block, visits, initial, sizes, outlines, start, frame):
    """Where each state's name goes in the scatter (display pixels), and which of its clusters need a line.

    centres: each cluster's centre; block: each cluster's state; visits:
    each cluster's points; initial: the start's cluster (its name goes
    beside its x, ``start``); sizes: {state: (width, height) of its name};
    outlines: {cluster: the line round it}; frame: where names may go.
    The states with the most points go first; each name tries its biggest
    cluster's centre, then rings further out, fanning away from the middle
    and keeping off other states' clusters (outline and centre) where it
    can; names that would meet go side by side in a row (place_labels).
    Returns {state: (centre, box, the clusters its box does not cover)}.
    """
    marks = {s: np.vstack([thin(line, 12), centres[s]]) for s, line in outlines.items()}
    marks[initial] = np.vstack([marks.get(initial, np.zeros((0, 2))), start])
    order = sorted(sizes, key=lambda m: -visits[block == m].sum())
    middle, items = centres.mean(0), []
    for m in order:
        members = np.nonzero(block == m)[0]
        lead = members[np.argmax(visits[members])]
        spots = ring_spots(centres[lead], centres[lead] - middle)
        avoid = np.vstack([np.zeros((0, 2))] + [p for s, p in marks.items() if block[s] != m])
        items.append((centres[lead], spots if lead == initial else [centres[lead]] + spots, sizes[m], avoid))
    places = {}
    for m, spot in zip(order, place_labels(items, frame=frame)):
        box = box_at(spot, sizes[m])
        places[m] = (spot, box, [s for s in np.nonzero(block == m)[0] if not _covers(box, centres[s])])
    return places


def arrow_label_places(arcs, loops, sizes, centres, taken, frame):
    """Where each transition's label goes in the scatter (display pixels), and the point a line joins it to.

    arcs: (from, to) cluster pairs, drawn as arc3 curves bent by 0.2;
    loops: (label spot, outward direction) of each loop; sizes: each
    label's (width, height), the arcs' then the loops'; centres: the
    clusters' centres, which labels keep off where they can; taken: boxes
    already taken (the names). An arc's label goes on its curve as near
    the middle as it can, else nearby; a loop's beyond it. Returns
    (centre, the point of the curve to draw a line to, or None) per label.
    """
    items, curves = [], []
    for (s, t), size in zip(arcs, sizes):
        curve = arc_spots(centres[s], centres[t])
        ring = ring_spots(curve[0], curve[0] - (centres[s] + centres[t]) / 2, radii=(10, 16, 24, 34, 46, 60))
        items.append((curve + ring, size, centres))
        curves.append(curve)
    for (spot, outward), size in zip(loops, sizes[len(arcs):]):
        items.append(([spot] + ring_spots(spot, outward, radii=(8, 14, 22, 32, 44, 58)), size, centres))
        curves.append([spot])
    places = []
    for centre, curve, size in zip(place_boxes(items, taken, frame), curves, sizes):
        near = min(curve, key=lambda c: np.hypot(*(c - centre)))
        places.append((centre, near if np.hypot(*(near - centre)) > max(size) / 2 + 4 else None))
    return places
