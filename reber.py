"""The Reber grammar and the embedded Reber grammar, with true next-symbol probabilities.

The Reber grammar's finite-state machine (nodes 0..7; 0 before the first
symbol, 7 after the final E); every branch is taken with probability 1/2:

    0 -B-> 1;  1 -T-> 2, 1 -P-> 3;  2 -S-> 2, 2 -X-> 4;  3 -T-> 3, 3 -V-> 5;
    4 -X-> 3, 4 -S-> 6;  5 -P-> 4, 5 -V-> 6;  6 -E-> 7

Minimum length: while a string is too short, the two branches that end it
(4 -S-> 6 and 5 -V-> 6, each followed by E only) are not taken, and the
probabilities say so (the other branch has probability 1). The embedded
grammar is B, then T or P, a Reber string, the same T or P again, and E;
its minimum length counts all of it.

``get_sequence`` returns ``(seq, prob, state)`` like anb2n.py: seq the
symbols as integers (inputs seq[:-1], targets seq[1:]), prob the true
next-symbol probabilities after each input, state the machine's state after
each input. Plain Reber: the node, 1..6. Embedded: 1 after the first B,
10 + node inside the T branch, 20 + node inside the P branch (10 and 20 right
after the T or P, before the inner B), 30 after the closing T or P.
"""
import numpy as np

SYMBOLS = "BTSXPVE"
GRAPH = {
    0: (("B", 1),),
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
    6: (("E", 7),),
}
ENDING = {4: "S", 5: "V"}  # the branch that leaves only E to come
SHORTEST = 5  # BTXSE, BPVVE


class ReberLanguage:
    """Generator of Reber (or embedded Reber) strings with true probabilities and states.

    Shares its interface with anb2n.AnbnLanguage (see lab/recurrent/languages.py).
    """

    counting = False

    def __init__(self, embed=False, length=SHORTEST):
        if length < 0:
            raise ValueError(f"minimum length must not be negative, got {length}")
        self.embed = bool(embed)
        self.length = int(length)
        self.symbols = SYMBOLS
        self.tag = "reber_embed" if self.embed else "reber"

    @property
    def has_final(self):
        """Whether the closing T/P (embedded grammar) is scored on its own."""
        return self.embed

    @property
    def num_symbols(self):
        """Size of the alphabet (inputs and outputs)."""
        return len(self.symbols)

    def _choices(self, node, emitted, min_len):
        """The (symbol, next node, probability) options at a node, given the symbols emitted so far."""
        options = GRAPH[node]
        if node in ENDING and emitted + 2 < min_len:  # ending now would be too short
            return [(s, nxt, 1.0) for s, nxt in options if s != ENDING[node]]
        return [(s, nxt, 1.0 / len(options)) for s, nxt in options]

    def _reber(self, rng, min_len, offset, prefix_len):
        """One Reber string: symbols, the distributions after each symbol, and states (node + offset)."""
        seq, prob, state = [], [], []
        node = 0
        while node != 7:
            options = self._choices(node, prefix_len + len(seq), min_len)
            if len(options) == 1 or rng.random() < options[0][2]:
                sym, nxt, _ = options[0]
            else:
                sym, nxt, _ = options[1]
            seq.append(SYMBOLS.index(sym))
            node = nxt
            state.append(node + offset)
            if node != 7:
                after = np.zeros(len(SYMBOLS))
                for s, _, p in self._choices(node, prefix_len + len(seq), min_len):
                    after[SYMBOLS.index(s)] = p
                prob.append(after)
        return seq, prob, state

    def get_sequence(self, rng):
        """Draw one string (embedded or not) with its probabilities and states."""
        if not self.embed:
            seq, prob, state = self._reber(rng, self.length, 0, 0)
            return np.array(seq, dtype=np.int64), np.array(prob), np.array(state[:-1], dtype=np.int64)
        branch = "T" if rng.random() < 0.5 else "P"
        offset = 10 if branch == "T" else 20
        inner_min = self.length - 2  # the inner string's symbols count from position 2
        inner, inner_prob, inner_state = self._reber(rng, inner_min, offset, 2)
        b, t, p, e = (SYMBOLS.index(c) for c in "BTPE")
        seq = [b, SYMBOLS.index(branch)] + inner + [SYMBOLS.index(branch), e]
        half = np.zeros(len(SYMBOLS))
        half[t] = half[p] = 0.5
        start = np.zeros(len(SYMBOLS))
        start[b] = 1.0
        close = np.zeros(len(SYMBOLS))
        close[SYMBOLS.index(branch)] = 1.0
        end = np.zeros(len(SYMBOLS))
        end[e] = 1.0
        # after B: T/P; after T/P: inner B; inner; after inner E: the branch again; after it: E
        prob = [half, start] + inner_prob + [close, end]
        state = [1, offset] + inner_state + [30]
        return np.array(seq, dtype=np.int64), np.array(prob), np.array(state, dtype=np.int64)

    def final_position(self, seq):
        """Index of the input (the inner E) whose next symbol is the closing T or P; embedded only."""
        if not self.embed:
            raise ValueError("only the embedded grammar has a final T/P to predict")
        return len(seq) - 3

    def decode(self, seq):
        """The symbols of an integer sequence as a string."""
        return "".join(self.symbols[int(s)] for s in seq)
