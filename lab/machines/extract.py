"""Read a finite-state machine out of a recurrent network's state trajectories.

The network's state after each input is a point in its state space. Cluster
the points (``kmeans``: weighted Lloyd iterations from a k-means++ start,
seeded, several restarts); each cluster is a state of the machine. From
state s, input a leads to the state most often reached from s on a; each
state predicts what the network predicted, on average, at its points.
``run_machine`` then runs the machine on its own (closed loop: only the
input symbols, never the network) and ``score`` compares its predictions
with the language and with the network; ``minimize`` merges states that
predict alike and lead to equivalent states.

Trajectories are flat arrays over every input position of every sequence:
``features`` (N, D) the state after the input, ``symbol`` (N,) the input,
``first`` (N,) true at a sequence's first input; ``initial`` (D,) is the
state before the first input, the same for every sequence.
"""
from dataclasses import dataclass

import numpy as np

DET = 0.999  # a true probability above this counts as certain
RIGHT = 0.5  # a certain symbol counts as predicted when given a probability above this


def _sq_dist(points, centers):
    """Squared distances (n, k) between rows of points and rows of centers."""
    d = (points**2).sum(1)[:, None] - 2.0 * points @ centers.T + (centers**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _kmeans_pp(points, weights, k, rng):
    """k-means++ start: each new center drawn with probability proportional to weight x squared distance."""
    centers = [points[rng.choice(len(points), p=weights / weights.sum())]]
    closest = _sq_dist(points, centers[0][None])[:, 0]
    for _ in range(1, k):
        score = weights * closest
        if score.sum() <= 0:  # fewer distinct points than k: repeat one
            centers.append(centers[-1])
            continue
        centers.append(points[rng.choice(len(points), p=score / score.sum())])
        closest = np.minimum(closest, _sq_dist(points, centers[-1][None])[:, 0])
    return np.array(centers)


def kmeans(points, k, seed=0, weights=None, restarts=4, iters=100):
    """Weighted k-means with a k-means++ start; the best of ``restarts`` runs.

    Returns (centers (k, D), labels (n,), inertia). A cluster that empties
    during the iterations is moved to the point that is worst served.
    The same seed gives the same clusters.
    """
    points = np.asarray(points, dtype=np.float64)
    weights = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not 1 <= k <= len(points):
        raise ValueError(f"k must be 1 to the number of points ({len(points)}), got {k}")
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        centers = _kmeans_pp(points, weights, k, rng)
        labels = None
        for _ in range(iters):
            dist = _sq_dist(points, centers)
            new = dist.argmin(1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            mass = np.bincount(labels, weights=weights, minlength=k)
            for d in range(points.shape[1]):
                sums = np.bincount(labels, weights=weights * points[:, d], minlength=k)
                centers[:, d] = np.where(mass > 0, sums / np.maximum(mass, 1e-300), centers[:, d])
            for c in np.nonzero(mass == 0)[0]:
                worst = (weights * dist[np.arange(len(points)), labels]).argmax()
                centers[c] = points[worst]
        dist = _sq_dist(points, centers)
        labels = dist.argmin(1)
        inertia = float((weights * dist[np.arange(len(points)), labels]).sum())
        if best is None or inertia < best[2] - 1e-12:
            best = (centers.copy(), labels, inertia)
    return best


def nearest(points, centers):
    """Index of the nearest center for each point."""
    return _sq_dist(np.asarray(points, dtype=np.float64), centers).argmin(1)


def convex_hull(points):
    """Vertices of the convex hull of 2-D points, counter-clockwise (Andrew's monotone chain).

    Fewer than three distinct points, or points on a line, give the distinct
    extreme points (one or two).
    """
    pts = sorted(set(map(tuple, np.asarray(points, dtype=np.float64).tolist())))
    if len(pts) <= 2:
        return np.array(pts).reshape(-1, 2)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(seq):
        chain = []
        for p in seq:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1]).reshape(-1, 2)


@dataclass
class Machine:
    """An extracted machine with states 0..K-1 over symbols 0..S-1.

    initial: the state before the first input; counts (K, S, K): how often
    state s went to state t on symbol a; predict (K, S): the network's mean
    next-symbol probabilities in each state (all zero in a state entered
    only before the first input); visits (K,): points per state, the
    initial state once per sequence;
    centers (K, D): the cluster centers in the network's state space.
    """

    initial: int
    counts: np.ndarray
    predict: np.ndarray
    visits: np.ndarray
    centers: np.ndarray

    @property
    def num_states(self):
        """The number of states, the start state included."""
        return len(self.visits)

    def assign(self, features):
        """The state of each point: its nearest center, the start state excepted."""
        others = [s for s in range(self.num_states) if s != self.initial]
        return np.array(others, dtype=np.int64)[nearest(features, self.centers[others])]

    @property
    def next_state(self):
        """(K, S) the majority successor of each state on each symbol; -1 where never seen."""
        nxt = self.counts.argmax(-1)
        return np.where(self.counts.sum(-1) > 0, nxt, -1)


def sources(labels, initial_label, first):
    """The state each input is read in: the initial state at a sequence's start, else the previous label."""
    src = np.empty_like(labels)
    src[1:] = labels[:-1]
    src[first] = initial_label
    return src


def build_machine(labels, initial_label, symbol, first, output, num_states, num_symbols, centers):
    """Count transitions and average the network's predictions per state; states renumbered canonically."""
    counts = np.zeros((num_states, num_symbols, num_states), dtype=np.int64)
    np.add.at(counts, (sources(labels, initial_label, first), symbol, labels), 1)
    visits = np.bincount(labels, minlength=num_states)
    predict = np.zeros((num_states, output.shape[1]))
    np.add.at(predict, labels, output)
    predict /= np.maximum(visits, 1)[:, None]  # a state only ever visited before the first input predicts nothing
    visits[initial_label] += int(first.sum())
    return canonical(Machine(int(initial_label), counts, predict, visits, np.asarray(centers)))


def canonical_order(machine):
    """The states in breadth-first order from the initial state (successors in symbol order).

    States that cannot be reached come last, by number of visits.
    """
    nxt = machine.next_state
    order, seen = [machine.initial], {machine.initial}
    for s in order:
        for t in nxt[s]:
            if t >= 0 and t not in seen:
                seen.add(int(t))
                order.append(int(t))
    return order + sorted(set(range(machine.num_states)) - seen, key=lambda s: -machine.visits[s])


def canonical(machine):
    """The same machine with its states renumbered in ``canonical_order``.

    Two machines that differ only in their state numbers come out identical.
    """
    order = canonical_order(machine)
    counts = machine.counts[order][:, :, order]
    return Machine(0, counts, machine.predict[order], machine.visits[order], machine.centers[order])


def extract(features, initial, symbol, first, output, clusters, num_symbols, seed=0, restarts=4):
    """Cluster the states after each input into ``clusters`` states and build the machine; returns (machine, labels).

    The state before the first input is a state of its own (state 0, the
    start), whatever its position: the network is never asked to predict
    from it, so it may sit anywhere. Identical points are clustered once,
    with their count as weight, which keeps large collections fast.
    """
    unique, inverse, mass = np.unique(np.round(features, 6), axis=0, return_inverse=True, return_counts=True)
    k = min(clusters, len(unique))
    centers, labels, _ = kmeans(unique, k, seed=seed, weights=mass, restarts=restarts)
    labels = labels[inverse.reshape(-1)] + 1
    centers = np.vstack([np.asarray(initial, dtype=np.float64)[None], centers])
    machine = build_machine(labels, 0, symbol, first, output, k + 1, num_symbols, centers)
    return machine, machine.assign(features)


def prediction_groups(predict, tol=0.1):
    """Group states whose predictions are alike: within total-variation ``tol`` of the group's first state.

    Deliberately loose: two states that split one 50/50 choice slightly
    differently predict the same; states whose futures differ are told
    apart afterwards by their successors. A state that never predicts
    (the start) is grouped only with others like it.
    """
    firsts, block = [], []
    for p in predict:
        for i, q in enumerate(firsts):
            if p.any() == q.any() and 0.5 * np.abs(p - q).sum() <= tol:
                block.append(i)
                break
        else:
            firsts.append(p)
            block.append(len(firsts) - 1)
    return np.array(block)


def minimize(machine):
    """Merge states that predict alike and whose successors are equivalent (Moore's partition refinement).

    Returns (the merged machine, numbered canonically; the block of each
    original state). Unseen transitions count as leading to a state of
    their own, so merging never invents a transition.
    """
    nxt = machine.next_state
    block = prediction_groups(machine.predict)
    while True:
        signature = {}
        new = np.array([signature.setdefault((block[s], *[block[t] if t >= 0 else -1 for t in nxt[s]]),
                                             len(signature)) for s in range(machine.num_states)])
        if len(signature) == len(set(block.tolist())):
            break
        block = new
    size = int(block.max()) + 1
    counts = np.zeros((size, machine.counts.shape[1], size), dtype=np.int64)
    for s in range(machine.num_states):
        for t in range(machine.num_states):
            counts[block[s], :, block[t]] += machine.counts[s, :, t]
    visits = np.bincount(block, weights=machine.visits, minlength=size).astype(np.int64)
    predict = np.zeros((size, machine.predict.shape[1]))
    np.add.at(predict, block, machine.predict * machine.visits[:, None])
    predict /= np.maximum(visits, 1)[:, None]
    centers = np.zeros((size, machine.centers.shape[1]))
    np.add.at(centers, block, machine.centers * machine.visits[:, None])
    centers /= np.maximum(visits, 1)[:, None]
    merged = Machine(int(block[machine.initial]), counts, predict, visits, centers)
    number = np.empty(size, dtype=np.int64)
    number[canonical_order(merged)] = np.arange(size)
    return canonical(merged), number[block]


def run_machine(machine, symbol, first):
    """Run the machine on inputs alone; returns the state after each input (-1 once it meets an unseen transition)."""
    nxt = machine.next_state
    states = np.empty(len(symbol), dtype=np.int64)
    state = machine.initial
    for i, (a, start) in enumerate(zip(symbol.tolist(), first.tolist())):
        if start:
            state = machine.initial
        state = nxt[state, a] if state >= 0 else -1
        states[i] = state
    return states


def score(machine, states, target, prob, output):
    """Compare the machine's predictions (in the given states) with the language and the network.

    Counts over the deterministic positions (the actual next symbol had
    true probability 1): ``det``; ``machine_right`` / ``net_right``: given
    probability above 0.5; ``match``: the machine's most likely symbol is
    the network's. ``tv``: mean total-variation distance between the
    machine's and the network's next-symbol distributions over all
    positions. ``stuck``: positions after an unseen transition (all wrong).
    """
    rows = np.arange(len(target))
    ok = states >= 0
    pm = np.where(ok[:, None], machine.predict[np.maximum(states, 0)], 0.0)
    det = prob[rows, target] > DET
    machine_right = (pm[rows, target] > RIGHT) & ok
    net_right = output[rows, target] > RIGHT
    match = (pm.argmax(1) == output.argmax(1)) & ok
    tv = np.where(ok, 0.5 * np.abs(pm - output).sum(1), 1.0)
    return {"det": int(det.sum()), "machine_right": int((machine_right & det).sum()),
            "net_right": int((net_right & det).sum()), "match": int((match & det).sum()),
            "tv": float(tv.mean()) if len(tv) else 0.0, "stuck": int((~ok).sum()), "positions": len(target),
            "det_mask": det, "machine_mask": machine_right, "net_mask": net_right, "match_mask": match}


def good_enough(result, tv_limit):
    """The criterion for the number of states: deterministic symbols as well as the network, and close to it."""
    return result["machine_right"] >= result["net_right"] and result["tv"] <= tv_limit


def contingency(a, b):
    """Counts table of label pairs; returns (table, values of a, values of b)."""
    va, ia = np.unique(a, return_inverse=True)
    vb, ib = np.unique(b, return_inverse=True)
    table = np.zeros((len(va), len(vb)), dtype=np.int64)
    np.add.at(table, (ia.reshape(-1), ib.reshape(-1)), 1)
    return table, va, vb


def one_to_one_share(table, max_side=20):
    """Largest share of points covered by a one-to-one pairing of rows and columns (None if too large).

    Exact: dynamic programming over the subsets of the smaller side.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.shape[0] < table.shape[1]:
        table = table.T
    m = table.shape[1]
    if m > max_side:
        return None
    masks = np.arange(2**m)
    best = np.full(2**m, -np.inf)
    best[0] = 0.0
    for row in table:
        new = best.copy()
        for g in range(m):
            free = masks[(masks >> g) & 1 == 0]
            np.maximum.at(new, free | (1 << g), best[free] + row[g])
        best = new
    return float(best.max() / max(table.sum(), 1))


def agreement(extracted, truth):
    """How well extracted states line up with the true ones.

    purity: share of points whose extracted state's most common true state
    is theirs; inverse purity: the same the other way round (1 when no true
    state is split); one_to_one: the best one-to-one pairing's share.
    """
    table, _, _ = contingency(extracted, truth)
    total = max(table.sum(), 1)
    return {"purity": table.max(1).sum() / total, "inverse_purity": table.max(0).sum() / total,
            "one_to_one": one_to_one_share(table), "table": table}


def transition_consistency(machine, state_map, true_next):
    """Share of the machine's observed transitions (weighted by count) that the true machine makes too.

    state_map: extracted state -> true state (e.g. the majority one);
    true_next: dict (true state, symbol) -> true next state.
    """
    agree = total = 0
    for s, a, t in zip(*np.nonzero(machine.counts)):
        n = machine.counts[s, a, t]
        total += n
        agree += n * (true_next.get((state_map[s], int(a))) == state_map[t])
    return agree / max(total, 1)
