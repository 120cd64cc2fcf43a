"""One string of each n, read by the network: states, predictions and truth at every position, tagged by phase.

A string a^n b^(m1 n) c^(m2 n)... is read from the network's initial state
and followed by the first A of the next string, so that the prediction
after its last symbol (an A must follow) is scored too. Position t holds the
state after reading input t; the network's prediction there is the argmax
of its output, the truth the symbol that comes next.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class StringRun:
    """The network on one string: n, inputs, targets, states (T, size), predictions, phase, step and logits per
    position.

    phase[t] is the input's symbol index (0 for A, 1 for B, ...) and
    step[t] its count within that phase (1 for the first symbol of a phase).
    The deterministic positions are every input but an A (all from the first
    B on), as the language defines them once n is known.
    """

    n: int
    inputs: np.ndarray
    targets: np.ndarray
    states: np.ndarray
    predicted: np.ndarray
    phase: np.ndarray
    step: np.ndarray
    logits: np.ndarray = None

    @property
    def deterministic(self):
        """True where the next symbol is certain given n (every input but an A)."""
        return self.phase > 0

    @property
    def last_in_phase(self):
        """True at the last symbol of each phase."""
        nxt = np.append(self.phase[1:], -1)
        return nxt != self.phase


def read_string(maps, lang, n):
    """Run the network over the string with this n (then an A); returns a StringRun."""
    seq, _, _ = lang.sequence_for([n, 1])
    length = lang.string_length(n)
    inputs, targets = seq[:length], seq[1:length + 1]
    states = maps.run(inputs)
    logits = maps.logits(maps.hidden(states))
    predicted = np.argmax(logits, axis=-1)
    step = np.ones(length, dtype=np.int64)
    for t in range(1, length):
        step[t] = step[t - 1] + 1 if inputs[t] == inputs[t - 1] else 1
    return StringRun(n, inputs, targets, states, predicted, inputs.copy(), step, logits)


def read_strings(maps, lang, ns):
    """``read_string`` for each n in ns."""
    return [read_string(maps, lang, int(n)) for n in ns]
