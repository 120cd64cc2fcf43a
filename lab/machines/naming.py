"""Names for a machine's states: each by the majority language state of its points.
"""
from collections import Counter

import numpy as np

from lab.machines.layout import language_slot
from lab.recurrent.states import START


def state_names(machine, labels, keys, namer):
    """Name each state by the majority language state of its points: (names, keys, shares).

    labels: the machine state of each point; keys: the language state of
    each point (LanguageStates.keys). The start state is "start". When
    several states share a majority name, the one holding most of those
    points keeps it and the others get primes (b3', b3''). keys[s] is the
    majority key (None for a state without points) and shares[s] the share
    of the state's points that have it.
    """
    count = machine.num_states
    votes = [Counter() for _ in range(count)]
    for s, k in zip(np.asarray(labels).tolist(), keys):
        votes[s][k] += 1
    names, major, shares = [""] * count, [None] * count, [0.0] * count
    for s in range(count):
        if s == machine.initial:
            major[s], shares[s] = START, 1.0
        elif votes[s]:
            k, c = max(votes[s].items(), key=lambda kc: (kc[1], namer.order(kc[0])))
            major[s], shares[s] = k, c / sum(votes[s].values())
    by_key = {}
    for s in range(count):
        by_key.setdefault(major[s], []).append(s)
    for k, states in by_key.items():
        states.sort(key=lambda s: (-votes[s][k], s))
        for i, s in enumerate(states):
            base = f"s{s}" if k is None else namer.name(k)
            names[s] = base + "'" * i
    return names, major, shares



def state_slots(names, keys, namer):
    """Each state's place in the graph by its language state (layout.language_slot); None for a primed name."""
    return [None if k is None or name.endswith("'") else language_slot(namer, k) for name, k in zip(names, keys)]
