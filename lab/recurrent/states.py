"""The language's own states in words (A3, b5, b3c6, n4, T.n2), per-point colour classes for plots, and
the colours those names are drawn in (one hue per phase, shaded by the count).
"""
import re

import numpy as np


START = ("start",)  # the key of the state before the first input



class LanguageStates:
    """The language's own states in words: a key per point, its name, its place in the graph and colour order.

    Counting languages (a^n b^2n, a^n b^2n c^3n, ...): "A1".."A<length>"
    after 1..length A's; after a later symbol, the symbols of the string
    still to come, phase by phase, e.g. "b5" (a^n b^2n: 5 B's to come),
    "b3c6" (a^n b^2n c^3n: 3 B's, then 6 C's) and "c4" (4 C's to come); so
    "b0" is the end of a string, where an A follows. Reber: "n1".."n6", the
    grammar's node. Embedded Reber: "begin" (after the first B), "T" / "P"
    (after the branch's T or P), "T.n1".."T.n7" / "P.n1".."P.n7" (the
    inner grammar's node in the T / P branch; n7: after the inner E) and
    "end" (after the closing T or P). The state before the first input is
    "start".
    """

    def __init__(self, lang):
        self.lang = lang
        self.kind = "counting" if lang.counting else "embedded" if lang.has_final else "reber"

    def keys(self, symbol, first, state):
        """The language state of each point (a tuple), from the inputs and lab.recurrent.tracing's ``state`` per point.

        Counting languages: (0, k) after k A's; (p, left in phase p, then
        the whole of each later phase) after a symbol of phase p >= 1. The
        state number tells the same except for n in the middle phases of
        a^n b^2n c^3n, which the inputs give. Reber: ("node", state).
        """
        if self.kind != "counting":
            return [("node", int(s)) for s in np.asarray(state).tolist()]
        mult, keys = self.lang.mult, []
        n = run = 0
        prev = -1
        for a, start in zip(np.asarray(symbol).tolist(), np.asarray(first).tolist()):
            if a == 0:
                n = 1 if (start or prev != 0) else n + 1
                keys.append((0, n))
            else:
                run = 1 if (start or a != prev) else run + 1
                keys.append((a, mult[a - 1] * n - run, *(mult[q - 1] * n for q in range(a + 1, len(mult) + 1))))
            prev = a
        return keys

    def string_keys(self, inputs):
        """The keys after each input of strings of a counting language read from their start (no state numbers)."""
        count = len(inputs)
        return self.keys(inputs, np.arange(count) == 0, np.zeros(count, dtype=np.int64))

    def name(self, key):
        """The key in words (see the class)."""
        if key == START:
            return "start"
        if self.kind == "counting":
            if key[0] == 0:
                return f"A{key[1]}"
            letters = self.lang.symbols[key[0]:]
            return "".join(f"{c.lower()}{left}" for c, left in zip(letters, key[1:]))
        s = key[1]
        if self.kind == "reber":
            return f"n{s}"
        if s == 1:
            return "begin"
        if s == 30:
            return "end"
        branch = "T" if s < 20 else "P"
        return branch if s % 10 == 0 else f"{branch}.n{s % 10}"

    def number(self, key):
        """The language's state number of a key (lab.recurrent.tracing's ``state``), for ordering: 0 for the start."""
        if key == START:
            return 0
        if self.kind == "counting":
            return key[1] if key[0] == 0 else self.lang.length + 1 + sum(key[1:])
        return key[1]

    def order(self, key):
        """Sort key: the language's state number (as seq_plot.py's colours), then the phase."""
        return (self.number(key), key[0] if self.kind == "counting" and key != START else 0)

    def legend(self):
        """One line saying what the names mean."""
        if self.kind == "counting":
            letters = self.lang.symbols[1:]
            first, last = letters[0].lower(), letters[-1].lower()
            if len(letters) == 1:
                rest = f"{first}k: k {letters[0]}'s still to come ({first}0: the string is over, an A follows)"
            else:
                then = " then ".join(f"{v} {c}'s" for v, c in zip("jklm", letters[1:]))
                rest = (f"{first}i{''.join(c.lower() + v for v, c in zip('jklm', letters[1:]))}: i {letters[0]}'s "
                        f"then {then} still to come; {last}k: k {letters[-1]}'s to come ({last}0: an A follows)")
            return f"names: A1..A{self.lang.length} after 1..{self.lang.length} A's; {rest}"
        if self.kind == "reber":
            return "names: n1..n6, the Reber grammar's node after the input"
        return ("names: begin (after the first B), T or P (after the branch symbol), T.n1..T.n7 or P.n1..P.n7 "
                "(the inner grammar's node in that branch; n7: after the inner E), end (after the closing T/P)")



def point_names(lang, symbol, first, state):
    """Colour classes for plots coloured by the language's state: (class of each point, names in colour order).

    The classes are the language's own states, ordered by their state
    number as lab.recurrent.tracing gives it (then by phase).
    """
    namer = LanguageStates(lang)
    keys = namer.keys(symbol, first, state)
    ordered = sorted(set(keys), key=namer.order)
    index = {k: i for i, k in enumerate(ordered)}
    return np.array([index[k] for k in keys], dtype=np.int64), [namer.name(k) for k in ordered]



PHASE_MAPS = ("Reds", "Greens", "Blues", "Purples", "Oranges", "YlOrBr")  # A, B, C phases: as context_figure



def name_phase(name):
    """The phase a state's name belongs to, for its colour: the letter it starts with ("A3" -> "A", "b3c6" -> "b",
    "T.n4" -> "T", "n2" -> "n"), or "" for a word (start, begin, end)."""
    head = name.rstrip("'")
    if head[:1].isalpha() and (len(head) == 1 or head[1].isdigit() or head[1] == "."):
        return head[0]
    return ""



def _shade_key(name):
    """Order within a phase: the counts in the name summed (the symbols still to come, or the grammar's node)."""
    return (sum(int(d) for d in re.findall(r"\d+", name)), name)



def phase_columns(names):
    """The names' indices by phase: [(phase, indices)], phases in letter order and words last, each phase's
    names ordered by their counts (light to dark in state_colours; a column of a legend)."""
    groups = {}
    for i, name in enumerate(names):
        groups.setdefault(name_phase(name), []).append(i)
    return [(g, sorted(groups[g], key=lambda i: _shade_key(names[i])))
            for g in sorted(groups, key=lambda g: (g == "", g.lower()))]



def state_colours(names):
    """An RGBA colour for each state name: one hue per phase (PHASE_MAPS in letter order: the A's red, the
    B's green, the C's blue), light to dark along the phase's states; words (start, begin, end) in greys.

    Names of a single phase, ten at most (the Reber grammar's n1..n6),
    get tab10's distinct colours instead, since shades of one hue would
    be hard to tell apart.
    """
    from matplotlib import colormaps

    columns = phase_columns(names)
    lettered = [members for phase, members in columns if phase]
    colours = [None] * len(names)
    if len(lettered) <= 1 and len(names) <= 10:
        for rank, i in enumerate(i for _, members in columns for i in members):
            colours[i] = colormaps["tab10"](rank)
        return colours
    words = [members for phase, members in columns if not phase]
    for k, members in enumerate(lettered + words):
        cmap = colormaps["Greys" if k >= len(lettered) else PHASE_MAPS[k % len(PHASE_MAPS)]]
        for rank, i in enumerate(members):
            colours[i] = cmap(0.45 + 0.5 * rank / (len(members) - 1) if len(members) > 1 else 0.75)
    return colours
