"""Counting languages for next-symbol prediction: a^n b^2n, a^n b^2n c^3n and relatives.

A string is n A's followed, for each multiplier m, by m*n copies of the next
symbol (a^n b^2n has multipliers (2,), a^n b^2n c^3n has (2, 3)). A training
sequence is ``num_strings`` such strings in a row, each n drawn uniformly from
1..length.

``get_sequence`` returns ``(seq, prob, state)`` (numpy arrays):
- seq: the T+1 symbols as integers; the inputs are seq[:-1], the targets seq[1:];
- prob: (T, num_symbols), the true probability of each next symbol after
  reading seq[t], conditioned on everything read so far. After k A's the
  next symbol is another A with probability P(n > k | n >= k) =
  (length - k) / (length - k + 1); everything after the first B is certain;
- state: (T,) a number for colouring plots: k after the k-th A (rising), then
  length + 1 + (symbols of the string still to come) (falling to length + 1
  at the string's last symbol, when an A must follow).
"""
import numpy as np

MULTIPLIERS = {"anbn": (1,), "anb2n": (2,), "anbncn": (1, 1), "anb2nc3n": (2, 3)}
ALPHABET = "ABCDEFGH"


class AnbnLanguage:
    """Generator of sequences of strings a^n b^(m1 n) c^(m2 n)..., with true next-symbol probabilities.

    Shares its interface with reber.ReberLanguage (see lab/recurrent/languages.py):
    ``tag``, ``symbols``, ``num_symbols``, ``counting``, ``has_final``,
    ``get_sequence``, ``decode``.
    """

    counting = True  # the string's n decides what follows (see certain_given_n)
    has_final = False  # no closing symbol scored on its own (that is embedded Reber)

    def __init__(self, mult=(2,), length=4, num_strings=5, tag=None):
        mult = tuple(int(m) for m in mult)
        if not mult or len(mult) >= len(ALPHABET) or min(mult) < 1:
            raise ValueError(f"multipliers must be 1 to {len(ALPHABET) - 1} positive integers, got {mult}")
        if length < 1:
            raise ValueError(f"length (largest n) must be at least 1, got {length}")
        if num_strings < 1:
            raise ValueError(f"num_strings must be at least 1, got {num_strings}")
        self.mult = mult
        self.length = int(length)
        self.num_strings = int(num_strings)
        self.symbols = ALPHABET[: len(mult) + 1]
        self.tag = tag or next((name for name, m in MULTIPLIERS.items() if m == mult), "counting")

    @property
    def num_symbols(self):
        """Size of the alphabet (inputs and outputs)."""
        return len(self.symbols)

    def string_length(self, n):
        """The number of symbols in the string with this n."""
        return n * (1 + sum(self.mult))

    @staticmethod
    def certain_given_n(inputs):
        """Mask over input positions: true where the next symbol is certain once n is known.

        That is every input but an A (everything from the first B on). After
        the n-th A the generator says B is certain when n >= length (the
        training distribution), but in the language itself it is not: n is
        not yet known there. Used to score sequences beyond the training range.
        """
        return np.asarray(inputs) != 0

    def get_sequence(self, rng):
        """Draw a training sequence: ``num_strings`` strings with n uniform on 1..length."""
        ns = rng.integers(1, self.length + 1, size=self.num_strings)
        return self.sequence_for(ns)

    def sequence_for(self, ns):
        """Build the sequence of strings with the given n's, with probabilities and states.

        The A-phase probabilities follow the training distribution (n uniform
        on 1..length); for n beyond ``length`` they say B is certain after
        ``length`` A's, which such strings contradict on purpose.
        """
        seq, prob, state = [], [], []
        for n in ns:
            n = int(n)
            if n < 1:
                raise ValueError(f"n must be at least 1, got {n}")
            total = self.string_length(n)
            for k in range(1, n + 1):  # after reading the k-th A
                seq.append(0)
                p = np.zeros(self.num_symbols)
                stay = max(self.length - k, 0) / max(self.length - k + 1, 1)
                p[0], p[1] = stay, 1.0 - stay
                prob.append(p)
                state.append(k)
            done = n
            for phase, m in enumerate(self.mult, start=1):
                for j in range(1, m * n + 1):  # after reading the j-th symbol of this phase
                    seq.append(phase)
                    done += 1
                    p = np.zeros(self.num_symbols)
                    if j < m * n:
                        p[phase] = 1.0
                    elif phase < len(self.mult):
                        p[phase + 1] = 1.0
                    else:
                        p[0] = 1.0  # the next string starts
                    prob.append(p)
                    state.append(self.length + 1 + total - done)
        # the last symbol is only a target: nothing follows it
        return np.array(seq, dtype=np.int64), np.array(prob[:-1]), np.array(state[:-1], dtype=np.int64)

    def decode(self, seq):
        """The symbols of an integer sequence as a string."""
        return "".join(self.symbols[int(s)] for s in seq)
