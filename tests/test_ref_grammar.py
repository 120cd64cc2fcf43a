"""The sequence generators against their published definitions, written out here independently.

Reber grammar (Reber 1967; the transition diagram of Cleeremans, Servan-Schreiber
& McClelland 1989, Fig. 1): every string starts with B. Then

    T-branch: T, any number of S, X; then either S (to the end) or X (into the
              lower loop);
    P-branch: P, any number of T, V; then either V (to the end) or P (back to
              the upper junction, which continues with X or S);

and every string ends with E. Each fork is taken with probability 1/2.
The recognizer below names its states after positions in that diagram; it
never looks at reber.GRAPH.

a^n b^2n (Rodriguez 2001; the course's anb2n): n A's then 2n B's; with n
uniform on 1..L, after the k-th A the chance of another A is
P(n > k | n >= k) = (L - k) / (L - k + 1), and all that follows the first B
is determined.
"""
import numpy as np
import pytest

from anb2n import AnbnLanguage
from reber import SYMBOLS, ReberLanguage

# the diagram, with its states named by where they sit; each maps symbol -> next state
DIAGRAM = {
    "start": {"B": "begun"},
    "begun": {"T": "upper loop S", "P": "lower loop T"},
    "upper loop S": {"S": "upper loop S", "X": "upper junction"},
    "lower loop T": {"T": "lower loop T", "V": "lower junction"},
    "upper junction": {"X": "lower loop T", "S": "before E"},
    "lower junction": {"P": "upper junction", "V": "before E"},
    "before E": {"E": "done"},
    "done": {},
}


def walk(text):
    """The diagram's states after each symbol, or None if the string leaves the diagram or does not finish."""
    state, states = "start", []
    for ch in text:
        if ch not in DIAGRAM[state]:
            return None
        state = DIAGRAM[state][ch]
        states.append(state)
    return states if state == "done" else None


def accepts(text):
    return walk(text) is not None


@pytest.mark.parametrize("text", ["BTXSE", "BPVVE", "BTSXSE", "BPTVPSE", "BTSSXXVVE", "BPVPXVVE", "BTXXTTVPSE",
                                  "BPTTTVPXTVVE"])
def test_recognizer_accepts_grammatical_strings(text):
    assert accepts(text)


@pytest.mark.parametrize("text", ["BTSE", "BPVE", "BTXXE", "BTXS", "TXSE", "BTXSEE", "BPVPE", "BSXSE", "BTTXSE", ""])
def test_recognizer_rejects_ungrammatical_strings(text):
    assert not accepts(text)


def test_generated_reber_strings_are_all_grammatical():
    gen = ReberLanguage(embed=False)
    rng = np.random.default_rng(0)
    texts = [gen.decode(gen.get_sequence(rng)[0]) for _ in range(400)]
    bad = [t for t in texts if not accepts(t)]
    assert not bad, bad[:5]
    assert min(map(len, texts)) == 5  # BTXSE and BPVVE are the shortest
    # both branches and every arc of the diagram are used
    used = {(state, ch) for t in texts for state, ch in zip(["start"] + walk(t)[:-1], t)}
    assert used == {(s, c) for s, arcs in DIAGRAM.items() for c in arcs}


def drawn(gen, seed, count):
    """``count`` strings from the generator: (seq, prob, state, text, the diagram's states along text)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        seq, prob, state = gen.get_sequence(rng)
        text = gen.decode(seq)
        yield seq, prob, state, text, walk(text)


def allowed_probabilities(state):
    """Each arc out of a diagram state is taken with probability 1/(number of arcs)."""
    p = np.zeros(len(SYMBOLS))
    for ch in DIAGRAM[state]:
        p[SYMBOLS.index(ch)] = 1.0 / len(DIAGRAM[state])
    return p


def test_reber_true_probabilities_agree_with_the_diagram():
    assert SYMBOLS == "BTSXPVE"
    for seq, prob, _, text, states in drawn(ReberLanguage(embed=False), 1, 300):
        assert states is not None, text
        assert prob.shape == (len(seq) - 1, len(SYMBOLS))
        for t in range(len(seq) - 1):  # after reading text[t]
            np.testing.assert_array_equal(prob[t], allowed_probabilities(states[t]), err_msg=f"{text} at {t}")


def test_reber_states_correspond_one_to_one_with_the_diagram():
    """The generator's state numbers are its own, but each must name exactly one diagram state."""
    pairs = set()
    for seq, _, state, _, states in drawn(ReberLanguage(embed=False), 2, 300):
        assert len(state) == len(seq) - 1
        pairs |= set(zip(state.tolist(), states[:-1]))
    numbers = {n for n, _ in pairs}
    names = {s for _, s in pairs}
    assert len(pairs) == len(numbers) == len(names) == 6  # begun, the two loops, the two junctions, before E


def test_minimum_length_keeps_grammatical_strings_and_says_which_arcs_are_barred():
    for seq, prob, _, text, states in drawn(ReberLanguage(embed=False, length=9), 3, 200):
        assert states is not None and len(text) >= 9, text
        for t in range(len(seq) - 1):
            allowed = {SYMBOLS[i] for i in np.nonzero(prob[t])[0]}
            assert allowed <= set(DIAGRAM[states[t]]), (text, t)
            assert text[t + 1] in allowed
            assert prob[t].sum() == pytest.approx(1.0)


def test_embedded_strings_are_B_branch_reber_branch_E_with_their_probabilities():
    gen = ReberLanguage(embed=True)
    rng = np.random.default_rng(4)
    branches = set()
    for _ in range(300):
        seq, prob, _ = gen.get_sequence(rng)
        text = gen.decode(seq)
        assert text[0] == "B" and text[-1] == "E" and text[1] in "TP" and text[-2] == text[1], text
        inner = text[2:-2]
        inner_states = walk(inner)
        assert inner_states is not None, text
        branches.add(text[1])
        expected = [np.eye(len(SYMBOLS))[SYMBOLS.index("T")] * 0.5 + np.eye(len(SYMBOLS))[SYMBOLS.index("P")] * 0.5,
                    np.eye(len(SYMBOLS))[SYMBOLS.index("B")]]  # after B: T or P; after T/P: the inner B
        expected += [allowed_probabilities(s) for s in inner_states[:-1]]
        expected += [np.eye(len(SYMBOLS))[SYMBOLS.index(text[1])],  # after the inner E: the same branch, surely
                     np.eye(len(SYMBOLS))[SYMBOLS.index("E")]]
        np.testing.assert_array_equal(prob, np.array(expected), err_msg=text)
        assert gen.final_position(seq) == len(text) - 3 and text[len(text) - 3] == "E"
    assert branches == {"T", "P"}


# ---------------------------------------------------------------- a^n b^2n
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_anb2n_strings_by_hand(n):
    gen = AnbnLanguage((2,), length=4, num_strings=1)
    seq, prob, _ = gen.sequence_for([n])
    assert gen.decode(seq) == {1: "ABB", 2: "AABBBB", 3: "AAABBBBBB", 4: "AAAABBBBBBBB"}[n]
    assert len(prob) == 3 * n - 1
    # after the k-th A with L = 4: P(A) = (4-k)/(5-k): 3/4, 2/3, 1/2, 0
    a_stay = [3 / 4, 2 / 3, 1 / 2, 0.0][:n]
    np.testing.assert_allclose(prob[:n, 0], a_stay)
    np.testing.assert_allclose(prob[:n, 1], 1 - np.array(a_stay))
    # after the first B the rest is certain: B until the last one
    np.testing.assert_array_equal(prob[n:], np.tile([0.0, 1.0], (2 * n - 1, 1)))


def test_anb2n_sequence_of_strings_by_hand():
    """Two strings AABBBB then AB B: after the last B of a string the next A is certain."""
    gen = AnbnLanguage((2,), length=4, num_strings=2)
    seq, prob, _ = gen.sequence_for([2, 1])
    assert gen.decode(seq) == "AABBBBABB"
    expected = [[3 / 4, 1 / 4], [2 / 3, 1 / 3], [0, 1], [0, 1], [0, 1], [1, 0],  # first string, then A is certain
                [3 / 4, 1 / 4], [0, 1]]  # second string; nothing after the last B
    np.testing.assert_allclose(prob, expected)


def test_anb2n_length_two_probabilities_by_hand():
    gen = AnbnLanguage((2,), length=2, num_strings=1)
    _, prob, _ = gen.sequence_for([2])
    np.testing.assert_allclose(prob[:2, 0], [1 / 2, 0.0])  # (2-1)/(2-1+1), (2-2)/(2-2+1)


def test_anb2n_draws_n_uniformly_from_1_to_length():
    gen = AnbnLanguage((2,), length=4, num_strings=5)
    rng = np.random.default_rng(5)
    counts = np.zeros(5)
    for _ in range(400):
        text = gen.decode(gen.get_sequence(rng)[0])
        runs = [len(r) for r in text.replace("B", " ").split()]
        assert len(runs) == 5 and text == "".join("A" * n + "B" * 2 * n for n in runs)
        for n in runs:
            counts[n] += 1
    assert counts[0] == 0
    freq = counts[1:] / counts.sum()
    assert np.all(np.abs(freq - 0.25) < 0.03), freq  # 2000 draws: sd of each share about 0.01
