"""Geometry of a machine's graph: where each state goes, how arrows route round the circles,
and the small tests (boxes, circles, crossings) that keep labels and arrows clear of each other.

Nothing here draws; lab.machines.drawing turns these positions and paths into a figure.
"""
import numpy as np

from lab.recurrent.states import START


NODE_RADIUS = 0.3  # graph circles, in layout units (the circles in a row are 1 apart)



ROW = 1.25  # layout units between the rows of a graph laid out by the language's states



CLEARANCE = 0.07  # least gap (layout units) between an arrow and a circle it does not join



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



def length(path):
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
            curves = sorted(((length(c), c) for c in _edge_candidates(a, b, (t, s) in pairs, wide)),
                            key=lambda lc: lc[0])
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
                cost = length(path) + 0.8 * crossings(path, segments)
                inner = thin(path, 24)
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
        sparse = thin(path)
        segments = np.vstack([segments, np.stack([sparse[:-1], sparse[1:]], 1)])
        points = np.vstack([points, thin(path, 30)])
    return routed



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



DIRECTIONS = [np.array(v) / np.linalg.norm(v) for v in
              ((0, 1), (0, -1), (-1, 0), (1, 0), (-1, 1), (1, 1), (-1, -1), (1, -1))]



def box_hits_circle(box, centres, radius, skip=()):
    """Whether a box (x0, y0, x1, y1) comes within radius of any centre not in skip."""
    cx = np.clip(centres[:, 0], box[0], box[2])
    cy = np.clip(centres[:, 1], box[1], box[3])
    d = np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)
    d[list(skip)] = np.inf
    return bool((d < radius).any())



def overlaps(box, boxes, pad=0.03):
    return any(box[0] - pad < b[2] and b[0] < box[2] + pad and box[1] - pad < b[3] and b[1] < box[3] + pad
               for b in boxes)



def box_at(centre, size):
    return (centre[0] - size[0] / 2, centre[1] - size[1] / 2, centre[0] + size[0] / 2, centre[1] + size[1] / 2)



def inside(points, box):
    return int(((points[:, 0] > box[0]) & (points[:, 0] < box[2]) & (points[:, 1] > box[1])
                & (points[:, 1] < box[3])).sum())



def along(path, fraction):
    """The point a fraction of the way along a path (by length), and the unit direction there."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    i = int(np.clip(np.searchsorted(cum, fraction * cum[-1]), 1, len(path) - 1))
    d = path[i] - path[i - 1]
    return path[i], d / (np.linalg.norm(d) or 1.0)
