"""Machine extraction (lab/machines/extract.py) on constructed inputs whose answers are worked out by hand."""
import numpy as np
import pytest

from lab.machines import extract as fx


def machine(counts, predict, initial=0):
    counts = np.asarray(counts, dtype=np.int64)
    k = counts.shape[0]
    predict = np.asarray(predict, dtype=float)
    visits = np.maximum(counts.sum(axis=(0, 1)), 1)
    return fx.Machine(initial, counts, predict, visits, np.arange(2 * k, dtype=float).reshape(k, 2))


# ---------------------------------------------------------------- majority transitions
@pytest.mark.parametrize("majority, minority", [(3, 2), (2, 3)])
def test_next_state_is_the_majority_successor(majority, minority):
    """State 1 on symbol 0 goes to ``minority`` three times and to ``majority`` five times."""
    counts = np.zeros((4, 2, 4), dtype=np.int64)
    counts[0, 0, 1] = 4
    counts[1, 0, minority] = 3
    counts[1, 0, majority] = 5
    counts[1, 1, 0] = 1
    m = machine(counts, np.ones((4, 2)) / 2)
    nxt = m.next_state
    assert nxt[1, 0] == majority
    assert nxt[0, 0] == 1 and nxt[1, 1] == 0
    assert nxt[0, 1] == -1 and (nxt[2] == -1).all() and (nxt[3] == -1).all()  # never seen


def test_build_machine_takes_the_majority_even_when_the_minority_came_first():
    """Labels as a network would give them: after state 1, symbol 0 first leads to 2 (3 times), later to 3 (5 times).

    The centers are tagged with the original state numbers, so the check survives canonical renumbering.
    """
    labels, symbol, first = [], [], []
    for target in [2, 2, 2, 3, 3, 3, 3, 3]:
        # one sequence: start --1--> state 1 --0--> target
        labels += [1, target]
        symbol += [1, 0]
        first += [True, False]
    labels, symbol, first = np.array(labels), np.array(symbol), np.array(first)
    output = np.eye(2)[symbol]  # anything: one prediction per point
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])  # tag = 10 * original state
    m = fx.build_machine(labels, 0, symbol, first, output, 4, 2, centers)
    original = (m.centers[:, 0] / 10).astype(int)
    renumber = {int(o): i for i, o in enumerate(original)}
    nxt = m.next_state
    assert m.initial == 0 and original[0] == 0
    assert nxt[renumber[0], 1] == renumber[1]
    assert nxt[renumber[1], 0] == renumber[3]
    assert m.counts[renumber[1], 0, renumber[2]] == 3 and m.counts[renumber[1], 0, renumber[3]] == 5
    assert m.visits[renumber[0]] == 8 and m.visits[renumber[1]] == 8  # the start once per sequence
    # predictions are the mean network output of the points in each state
    np.testing.assert_allclose(m.predict[renumber[1]], [0.0, 1.0])  # state 1 was entered on symbol 1 each time
    np.testing.assert_allclose(m.predict[renumber[2]], [1.0, 0.0])
    np.testing.assert_allclose(m.predict[renumber[0]], [0.0, 0.0])  # the start is never a point


# ---------------------------------------------------------------- kmeans
def blobs(seed=0):
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    sizes = [30, 7, 50, 13]
    truth = np.repeat(np.arange(4), sizes)
    points = means[truth] + rng.normal(0, 0.3, (len(truth), 2))
    order = rng.permutation(len(truth))
    return points[order], truth[order]


def same_partition(a, b):
    """Two labelings split the points the same way (up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_returns_the_blob_partition_with_blob_means_as_centers(seed):
    points, truth = blobs(seed)
    centers, labels, inertia = fx.kmeans(points, 4, seed=seed)
    assert same_partition(labels, truth)
    for c in range(4):
        np.testing.assert_allclose(centers[c], points[labels == c].mean(0), atol=1e-9)
    assert inertia == pytest.approx(((points - centers[labels]) ** 2).sum(), rel=1e-9)
    # every point sits with its nearest center
    dist = ((points[:, None, :] - centers[None]) ** 2).sum(-1)
    assert np.array_equal(labels, dist.argmin(1))


def test_weighted_kmeans_centers_are_weighted_means():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [100.0, 0.0], [100.0, 4.0]])
    weights = np.array([1.0, 3.0, 1.0, 1.0])
    centers, labels, inertia = fx.kmeans(points, 2, seed=0, weights=weights)
    near = labels[0]
    assert labels[1] == near and labels[2] == labels[3] != near
    np.testing.assert_allclose(centers[near], [0.75, 0.0])  # (0*1 + 1*3) / 4
    np.testing.assert_allclose(centers[labels[2]], [100.0, 2.0])
    # by hand: 1*0.75^2 + 3*0.25^2 + 1*2^2 + 1*2^2
    assert inertia == pytest.approx(0.5625 + 0.1875 + 4 + 4)


def test_kmeans_with_one_cluster_is_the_mean_and_same_seed_repeats():
    points, _ = blobs(3)
    centers, labels, _ = fx.kmeans(points, 1)
    np.testing.assert_allclose(centers[0], points.mean(0))
    assert (labels == 0).all()
    a = fx.kmeans(points, 4, seed=5)
    b = fx.kmeans(points, 4, seed=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


# ---------------------------------------------------------------- convex hull
def test_convex_hull_of_a_square_with_interior_points_is_its_corners():
    rng = np.random.default_rng(0)
    corners = np.array([[-1.0, -1.0], [3.0, -1.0], [3.0, 3.0], [-1.0, 3.0]])
    inside = rng.uniform(-0.9, 2.9, (40, 2))
    on_edges = np.array([[1.0, -1.0], [3.0, 0.5], [0.0, 3.0], [-1.0, 2.0]])
    hull = fx.convex_hull(np.vstack([inside, corners[::-1], on_edges, inside[:5]]))
    assert sorted(map(tuple, hull.tolist())) == sorted(map(tuple, corners.tolist()))
    # counter-clockwise: the shoelace area is positive and equals the square's 16
    x, y = hull[:, 0], hull[:, 1]
    assert 0.5 * (x * np.roll(y, -1) - np.roll(x, -1) * y).sum() == pytest.approx(16.0)


def test_convex_hull_of_a_rotated_hexagon_keeps_its_cyclic_order():
    angles = np.deg2rad(15 + 60 * np.arange(6))
    hexagon = np.stack([np.cos(angles), np.sin(angles)], 1) * 2  # counter-clockwise already
    rng = np.random.default_rng(1)
    inside = rng.uniform(-1.0, 1.0, (30, 2))  # radius < sqrt(2) < the hexagon's inner radius sqrt(3)
    hull = fx.convex_hull(np.vstack([inside, hexagon[[3, 0, 5, 1, 4, 2]]]))
    assert len(hull) == 6
    start = int(np.argmin(np.abs(hull - hexagon[0]).sum(1)))
    np.testing.assert_allclose(np.roll(hull, -start, axis=0), hexagon, atol=1e-12)


# ---------------------------------------------------------------- minimize
def test_minimize_merges_equivalent_states_only():
    """Symbols a=0, b=1; predictions over two symbols.

    start -a-> 1; 1 -a-> 2; 2 -a-> 1; 1 -b-> 3; 2 -b-> 3; 3 -a-> 1.
    1 and 2 predict alike and lead to the same blocks: they are one state.
    3 predicts otherwise: it stays apart. 4 predicts like 1 but on b leads to 5, which
    predicts otherwise than 3: 4 must not join 1 and 2.
    """
    counts = np.zeros((6, 2, 6), dtype=np.int64)
    for s, a, t, n in [(0, 0, 1, 10), (0, 1, 4, 6), (1, 0, 2, 5), (2, 0, 1, 4), (1, 1, 3, 3), (2, 1, 3, 2),
                       (3, 0, 1, 5), (4, 0, 2, 6), (4, 1, 5, 6), (5, 0, 1, 6)]:
        counts[s, a, t] = n
    predict = np.array([[0, 0], [0.8, 0.2], [0.8, 0.2], [0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])
    m = machine(counts, predict)
    merged, block = fx.minimize(m)
    assert block[1] == block[2]
    assert len(set(block[[0, 1, 3, 4, 5]].tolist())) == 5
    assert merged.num_states == 5
    # merged counts are sums: the 1/2 block on a goes to itself 5 + 4 times, on b to 3's block 3 + 2 times
    b12 = block[1]
    assert merged.counts[b12, 0, b12] == 9 and merged.counts[b12, 1, block[3]] == 5
    assert merged.counts.sum() == counts.sum()
    assert merged.next_state[block[0], 0] == b12 and merged.next_state[block[4], 1] == block[5]
    np.testing.assert_allclose(merged.predict[b12], [0.8, 0.2])


def test_minimize_does_not_merge_states_with_different_predictions_or_futures():
    # 1 and 2 have the same successors but predict differently
    counts = np.zeros((3, 1, 3), dtype=np.int64)
    counts[0, 0, 1] = 2
    counts[1, 0, 2] = 2
    counts[2, 0, 1] = 2
    merged, block = fx.minimize(machine(counts, [[0, 0], [1.0, 0.0], [0.0, 1.0]]))
    assert merged.num_states == 3 and len(set(block.tolist())) == 3

    # 1 and 2 predict alike, but 2 leads on to 3 while 1 was never seen to leave: not the same state either
    counts = np.zeros((4, 1, 4), dtype=np.int64)
    counts[0, 0, 1] = 5
    counts[0, 0, 2] = 1
    counts[2, 0, 3] = 2
    counts[3, 0, 2] = 2
    merged, block = fx.minimize(machine(counts, [[0, 0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert block[1] != block[2] and merged.num_states == 4


def brute_force_inertia(points, k):
    """The least within-cluster sum of squares over every assignment of the points to k non-empty clusters."""
    n = len(points)
    assign = np.array(np.meshgrid(*[np.arange(k)] * n, indexing="ij")).reshape(n, -1).T  # (k**n, n)
    onehot = np.eye(k)[assign]  # (A, n, k)
    size = onehot.sum(1)  # (A, k)
    sums = np.einsum("ank,nd->akd", onehot, points)
    sq = np.einsum("ank,n->ak", onehot, (points ** 2).sum(1))
    # per cluster: sum |x|^2 - |sum x|^2 / size
    within = sq - (sums ** 2).sum(-1) / np.maximum(size, 1)
    full = (size > 0).all(1)
    return within.sum(1)[full].min()


def test_kmeans_restarts_keep_the_best_run():
    """Nine scattered points, three clusters: single runs often stop in a local minimum; the best of ten must not."""
    points = np.random.default_rng(0).uniform(0, 1, (9, 2))
    optimum = brute_force_inertia(points, 3)
    singles = [fx.kmeans(points, 3, seed=s, restarts=1)[2] for s in range(10)]
    assert any(v > optimum + 1e-6 for v in singles)  # the problem does have local minima
    for s in range(10):
        centers, labels, inertia = fx.kmeans(points, 3, seed=s, restarts=10)
        assert inertia == pytest.approx(optimum, abs=1e-9), s
        assert inertia == pytest.approx(((points - centers[labels]) ** 2).sum(), abs=1e-9)
