"""Tests for the sequence generators anb2n.py and reber.py: structure, probabilities, frequencies."""
import re
from collections import defaultdict

import numpy as np
import pytest

from anb2n import MULTIPLIERS, AnbnLanguage
from lab.recurrent.languages import make_language
from lab.common.errors import UserError
from reber import GRAPH, SYMBOLS, ReberLanguage


def split_strings(text, mult):
    """Split a sequence of a^n b^(m1 n)... strings; returns the n of each string or fails."""
    letters = "ABCDEFGH"[: len(mult) + 1]
    pattern = "".join(f"({c}+)" for c in letters)
    ns, pos = [], 0
    while pos < len(text):
        m = re.compile(pattern).match(text, pos)
        assert m, f"not a^n b^mn ... at {pos}: {text}"
        n = len(m.group(1))
        # greedy matching: the next string's A's stop each group, so counts are exact
        for g, k in enumerate(mult, start=2):
            assert len(m.group(g)) == k * n, text
        ns.append(n)
        pos = m.end()
    return ns


@pytest.mark.parametrize("lang", sorted(MULTIPLIERS))
def test_anbn_structure_and_probabilities(lang):
    gen = make_language(lang, length=4)
    rng = np.random.default_rng(1)
    for _ in range(200):
        seq, prob, state = gen.get_sequence(rng)
        ns = split_strings(gen.decode(seq), MULTIPLIERS[lang])
        assert len(ns) == 5 and all(1 <= n <= 4 for n in ns)
        assert len(prob) == len(state) == len(seq) - 1
        assert np.all(prob >= 0) and np.allclose(prob.sum(1), 1.0)
        # the true next symbol always has positive probability
        assert np.all(prob[np.arange(len(prob)), seq[1:]] > 0)


def test_anb2n_states_rise_then_fall():
    gen = AnbnLanguage((2,), length=4, num_strings=1)
    seq, prob, state = gen.sequence_for([3])
    assert gen.decode(seq) == "AAABBBBBB"
    assert state.tolist() == [1, 2, 3, 5 + 5, 5 + 4, 5 + 3, 5 + 2, 5 + 1]
    np.testing.assert_allclose(prob[:3, 0], [3 / 4, 2 / 3, 1 / 2])
    assert prob[3:, 1].tolist() == [1.0] * 5


def test_anbn_true_probabilities_match_frequencies():
    """Empirical next-symbol frequencies, grouped by the current string's prefix, match the stated ones."""
    gen = make_language("anb2nc3n", length=4)
    rng = np.random.default_rng(2)
    counts = defaultdict(lambda: np.zeros(3))
    stated = {}
    for _ in range(2000):
        seq, prob, _ = gen.get_sequence(rng)
        text, start = gen.decode(seq), 0
        for t in range(len(prob)):
            if t > 0 and text[t] == "A" and text[t - 1] != "A":
                start = t  # a new string begins
            prefix = text[start : t + 1]
            counts[prefix][seq[t + 1]] += 1
            assert np.array_equal(stated.setdefault(prefix, prob[t]), prob[t]), prefix
    for prefix, c in counts.items():
        total = c.sum()
        if total < 500:
            continue
        freq = c / total
        sigma = np.sqrt(stated[prefix] * (1 - stated[prefix]) / total)
        assert np.all(np.abs(freq - stated[prefix]) <= 5 * sigma + 1e-9), (prefix, freq, stated[prefix])
    assert counts["A"].sum() >= 10000  # enough draws that the A-phase checks ran


def reber_accepts(text):
    """Walk the Reber machine over a string; return the nodes visited or fail."""
    node, nodes = 0, []
    for ch in text:
        nxt = dict(GRAPH[node]).get(ch)
        assert nxt is not None, f"{text}: no {ch} from node {node}"
        node = nxt
        nodes.append(node)
    assert node == 7, text
    return nodes


@pytest.mark.parametrize("length", [5, 12])
def test_reber_structure(length):
    gen = ReberLanguage(embed=False, length=length)
    rng = np.random.default_rng(3)
    for _ in range(300):
        seq, prob, state = gen.get_sequence(rng)
        text = gen.decode(seq)
        assert len(text) >= length
        assert reber_accepts(text)[:-1] == state.tolist()
        assert np.allclose(prob.sum(1), 1.0)
        assert np.all(prob[np.arange(len(prob)), seq[1:]] > 0)


def test_embedded_reber_structure():
    gen = ReberLanguage(embed=True, length=12)
    rng = np.random.default_rng(4)
    branches = set()
    for _ in range(300):
        seq, prob, state = gen.get_sequence(rng)
        text = gen.decode(seq)
        assert len(text) >= 12 and text[0] == "B" and text[-1] == "E"
        assert text[1] in "TP" and text[-2] == text[1]
        reber_accepts(text[2:-2])
        branches.add(text[1])
        pos = gen.final_position(seq)
        assert SYMBOLS[seq[pos]] == "E" and prob[pos, SYMBOLS.index(text[1])] == 1.0
        assert state[1] == (10 if text[1] == "T" else 20) and state[-1] == 30
        assert np.allclose(prob.sum(1), 1.0)
    assert branches == {"T", "P"}


@pytest.mark.parametrize("embed,length", [(False, 5), (False, 11), (True, 9)])
def test_reber_true_probabilities_match_frequencies(embed, length):
    """Grouped by (state, position), which fixes the true distribution, frequencies match it."""
    gen = ReberLanguage(embed=embed, length=length)
    rng = np.random.default_rng(5)
    counts = defaultdict(lambda: np.zeros(len(SYMBOLS)))
    stated = {}
    for _ in range(3000):
        seq, prob, state = gen.get_sequence(rng)
        for t in range(len(prob)):
            key = (int(state[t]), min(t, length))  # past the minimum length the position no longer matters
            counts[key][seq[t + 1]] += 1
            assert np.array_equal(stated.setdefault(key, prob[t]), prob[t]), key
    checked = 0
    for key, c in counts.items():
        if c.sum() < 400:
            continue
        freq, p = c / c.sum(), stated[key]
        sigma = np.sqrt(p * (1 - p) / c.sum())
        assert np.all(np.abs(freq - p) <= 5 * sigma + 1e-9), (key, freq, p)
        checked += 1
    assert checked >= 5


def test_generators_reject_bad_settings():
    with pytest.raises(ValueError):
        AnbnLanguage((2,), length=0)
    with pytest.raises(UserError, match="unknown language"):
        make_language("anb3n")
    with pytest.raises(ValueError):
        ReberLanguage(length=-1)
