"""What seq_fsm.py prints about an extracted machine: the choice of its size, its table, DOT text,
validation on fresh sequences, merged states, agreement with the Reber grammar, and an LSTM's counting.

The algorithms are in fsm_extract.py; these functions run them on a
network's trajectories (seq_trace.gather) and print their results through
``log``, returning the numbers too so that a run record can hold them.
``LanguageStates`` names the language's own states in words ("A3", "b5",
"b3c6", "n4", "T.n2"), and ``state_names`` names a machine's states by the
majority language state of their points; seq_plot.py's colour bars use the
same names.
"""
from collections import Counter

import numpy as np

import fsm_extract as fx
from fsm_plots import ROW, predicted_text
from seq_trace import gather

BEYOND = 4  # validate beyond the training range on n = length+1 .. length+BEYOND


def counting_samples(lang, rng, count, low, high):
    """``count`` sequences of strings with n uniform on low..high; returns (samples, n at each input position)."""
    samples, ns = [], []
    for _ in range(count):
        n = rng.integers(low, high + 1, size=lang.num_strings)
        samples.append(lang.sequence_for(n))
        ns.append(np.repeat(n, lang.string_length(n))[:-1])
    return samples, np.concatenate(ns)


def fresh(lang, seed, purpose, count):
    """``count`` fresh sequences from the language's own generator, on a stream of their own."""
    rng = np.random.default_rng([seed, purpose])
    return [lang.get_sequence(rng) for _ in range(count)]


def closed_loop(machine, data):
    """Run the machine on a data set's inputs and score it against the language and the network."""
    states = fx.run_machine(machine, data["symbol"], data["first"])
    return states, fx.score(machine, states, data["target"], data["prob"], data["output"])


def choose_machine(fit, select, lang, args, log=print, sweep=None):
    """Extract machines with 2, 3, ... states (the start and k clusters) until one meets the criterion.

    With --states K, only the machine with K states. ``sweep``, a list, gets a row per machine tried.

    Returns (machine, labels of the fitted points, its score on the
    selection set, whether it met the criterion).
    """
    ks = [args.states - 1] if args.states else range(1, args.max_states)
    log(f"{'states':>6} {'machine right':>14} {'network right':>14} {'mean TV':>8} {'stuck':>6}")
    best = None
    for k in ks:
        machine, labels = fx.extract(fit["features"], fit["start"], fit["symbol"], fit["first"], fit["output"],
                                     k, lang.num_symbols, seed=args.seed)
        _, result = closed_loop(machine, select)
        ok = fx.good_enough(result, args.tv)
        det = max(result["det"], 1)
        log(f"{machine.num_states:>6} {result['machine_right'] / det:>14.2%} {result['net_right'] / det:>14.2%} "
            f"{result['tv']:>8.3f} {result['stuck']:>6}" + ("   <- criterion met" if ok else ""))
        if sweep is not None:
            sweep.append({"states": machine.num_states, "machine_right": result["machine_right"] / det,
                          "network_right": result["net_right"] / det, "mean_tv": result["tv"],
                          "stuck": result["stuck"], "criterion_met": ok})
        rank = (ok, result["machine_right"], -result["tv"])
        if best is None or rank > best[0]:
            best = (rank, machine, labels, result)
        if ok or machine.num_states - 1 < k:  # met, or no more distinct points to split
            break
    _, machine, labels, result = best
    return machine, labels, result, best[0][0]


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
        """The language state of each point (a tuple), from the inputs and seq_trace's ``state`` per point.

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
        """The language's state number of a key (seq_trace's ``state``), for ordering: 0 for the start."""
        if key == START:
            return 0
        if self.kind == "counting":
            return key[1] if key[0] == 0 else self.lang.length + 1 + sum(key[1:])
        return key[1]

    def order(self, key):
        """Sort key: the language's state number (as seq_plot.py's colours), then the phase."""
        return (self.number(key), key[0] if self.kind == "counting" and key != START else 0)

    def slot(self, key):
        """Where the state with this key goes in the graph (layout units), or None.

        Counting, one phase after the A's: the A's in a row, each above the
        B it leads to; the B's in the row below, right to left, so the last
        one sits under A1. Two phases: the A's in the top row; below them a
        row of B's for each n (n = length on top), starting under A_n; the
        C's in the bottom row, right to left, each below the last B that
        leads to it. Reber: by the grammar's node; embedded: the T branch
        above, the P branch below.
        """
        if self.kind == "counting":
            return self._counting_slot(key)
        if self.kind == "reber":
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

    def _counting_slot(self, key):
        mult, length = self.lang.mult, self.lang.length
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
    number as seq_trace gives it (then by phase).
    """
    namer = LanguageStates(lang)
    keys = namer.keys(symbol, first, state)
    ordered = sorted(set(keys), key=namer.order)
    index = {k: i for i, k in enumerate(ordered)}
    return np.array([index[k] for k in keys], dtype=np.int64), [namer.name(k) for k in ordered]


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
    """Each state's place in the graph by its language state (LanguageStates.slot); None for a primed name."""
    return [None if k is None or name.endswith("'") else namer.slot(k) for name, k in zip(names, keys)]


def machine_table(machine, symbols, names=None, shares=None):
    """The machine as text: per state its points, predictions and (majority) successor on each symbol.

    With ``names`` (state_names), each state's name follows its number (and
    the share of its points whose language state gives that name), and the
    successors are given by name.
    """
    if names is None:
        names, shares = [str(s) for s in range(machine.num_states)], [0.0] * machine.num_states
    nxt = machine.next_state
    width = max(6, *map(len, names))
    head = f"{'state':>6} {'name':<{width}} {'share':>6} {'points':>7}  {'predicts':<9} {'mean probabilities':<24}"
    head += "".join(f"  on {c:<{width + 11}}" for c in symbols)
    lines = [head]
    for s in range(machine.num_states):
        probs = " ".join(f"{symbols[i]} {p:.2f}" for i, p in enumerate(machine.predict[s]) if p >= 0.05)
        share = "" if s == machine.initial else f"{shares[s]:.0%}"
        row = f"{s:>5}{'*' if s == machine.initial else ' '} {names[s]:<{width}} {share:>6} {machine.visits[s]:>7}  "
        row += f"{predicted_text(machine, s, symbols):<9} {probs:<24}"
        for a in range(len(symbols)):
            t, total = nxt[s, a], machine.counts[s, a].sum()
            cell = "-" if t < 0 else f"{names[t]} ({machine.counts[s, a, t]}/{total})"
            row += f"  {cell:<{width + 14}}"
        lines.append(row.rstrip())
    lines.append("* initial state; share: the points whose language state has this name; on X: the state reached "
                 "on input X (count of that transition / all from here on X)")
    return "\n".join(lines)


def machine_dot(machine, symbols, name, names=None, positions=None):
    """The machine as Graphviz DOT text (``dot -Tpng`` renders it, if Graphviz is installed).

    names: each state's label (default its number); positions: (K, 2) the
    lab's layout (fsm_plots.graph_layout), written as ``pos`` so that
    ``neato -n -Tpng`` draws the lab's arrangement.
    """
    names = [str(s) for s in range(machine.num_states)] if names is None else names
    point = "" if positions is None else (f', pos="{72 * (positions[machine.initial][0] - 0.7):.0f},'
                                           f'{72 * positions[machine.initial][1]:.0f}"')
    lines = [f'digraph "{name}" {{', "  rankdir=LR;", "  node [shape=circle];",
             f'  start [shape=point, label=""{point}];', f"  start -> s{machine.initial};"]
    for s in range(machine.num_states):
        shape = ", shape=doublecircle" if s == machine.initial else ""
        pos = "" if positions is None else f', pos="{72 * positions[s][0]:.0f},{72 * positions[s][1]:.0f}"'
        lines.append(f'  s{s} [label="{names[s]}\\n{predicted_text(machine, s, symbols)}"{shape}{pos}];')
    nxt = machine.next_state
    for s in range(machine.num_states):
        for a, t in enumerate(nxt[s]):
            if t >= 0:
                lines.append(f'  s{s} -> s{t} [label="{symbols[a]} ({machine.counts[s, a, t]}/'
                             f'{machine.counts[s, a].sum()})"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def validation_row(label, result, nearest, keep):
    """One row of the validation table, over the positions where ``keep`` holds: (text, dict of the numbers)."""
    det = result["det_mask"] & keep
    total = max(int(det.sum()), 1)
    share = lambda right: int((right & det).sum()) / total
    row = {"set": label.strip(), "deterministic": int(det.sum()), "machine_right": share(result["machine_mask"]),
           "network_right": share(result["net_mask"]), "machine_equals_network": share(result["match_mask"]),
           "stuck": int(((result["states"] < 0) & keep).sum()), "nearest_state": share(nearest["machine_mask"])}
    text = (f"{label:<24} {row['deterministic']:>13} {row['machine_right']:>14.2%} {row['network_right']:>14.2%}"
            f" {row['machine_equals_network']:>18.2%} {row['stuck']:>6} {row['nearest_state']:>14.2%}")
    return text, row


def validate(machine, model, lang, args, log=print, rows=None):
    """Run the machine on fresh sequences within (and for counting languages beyond) the training range.

    Returns the within-range data and machine states for later use; ``rows``,
    a list, gets the table's rows as dicts.
    """
    rows = [] if rows is None else rows
    log(f"\nvalidation: the machine run on the input symbols alone, {args.validate} fresh sequences per set")
    log("(deterministic: positions whose next symbol is certain, beyond the training range only those from the")
    log(" first B on, as n is not known before; right: given probability above 0.5;")
    log(" machine = network: the same most likely symbol; stuck: positions after a transition never seen,")
    log(" where the machine stops for the rest of the sequence; nearest state: the network's own state at each")
    log(" position read as its nearest extracted state, a check of the states without the transitions)")
    log(f"{'set':<24} {'deterministic':>13} {'machine right':>14} {'network right':>14} "
        f"{'machine = network':>18} {'stuck':>6} {'nearest state':>14}")
    if lang.counting:
        sets = [("within", 1, lang.length, 2), ("beyond", lang.length + 1, lang.length + BEYOND, 3)]
    else:
        sets = [("fresh strings", None, None, 2)]
    for name, low, high, purpose in sets:
        if low is None:
            samples, ns = fresh(lang, args.seed, purpose, args.validate), None
        else:
            rng = np.random.default_rng([args.seed, purpose])
            samples, ns = counting_samples(lang, rng, args.validate, low, high)
            name = f"{name} (n {low}..{high})"
        data = gather(model, lang, samples)
        states, result = closed_loop(machine, data)
        result["states"] = states
        if low is not None and low > lang.length:  # only what a^n b^2n itself makes certain (from the first B on)
            result["det_mask"] = result["det_mask"] & lang.certain_given_n(data["symbol"])
        nearest = fx.score(machine, machine.assign(data["features"]), data["target"], data["prob"], data["output"])
        everywhere = np.ones(len(states), dtype=bool)
        for label, keep in [(name, everywhere)] + [(f"  strings with n = {n}", ns == n)
                                                   for n in (range(low, high + 1) if ns is not None else ())]:
            text, row = validation_row(label, result, nearest, keep)
            log(text)
            rows.append(row)
        log_unseen(machine, data, states, lang.symbols, log)
        if purpose == 2:
            kept = data, states
    return kept


def log_unseen(machine, data, states, symbols, log=print):
    """Name the transitions the machine lacked where it got stuck (it stays stuck to the sequence's end)."""
    stuck = (states < 0) & (data["first"] | (np.roll(states, 1) >= 0))
    source = np.where(data["first"], machine.initial, np.roll(states, 1))[stuck]
    pairs, counts = np.unique(np.stack([source, data["symbol"][stuck]], 1), axis=0, return_counts=True)
    if len(pairs):
        log("  stuck on transitions never seen while extracting: " + ", ".join(
            f"state {s} on {symbols[a]} ({c}x)" for (s, a), c in zip(pairs.tolist(), counts.tolist())))


def merged_groups(block, size):
    """The groups of raw states merged into one (block: each raw state's merged state), and them as text."""
    groups = [g for g in ([s for s in range(len(block)) if block[s] == b] for b in range(size)) if len(g) > 1]
    return groups, ", ".join("+".join(map(str, g)) for g in groups) or "none merged"


def report_minimal(machine, minimal, block, data, log=print):
    """Say which states fsm_extract.minimize merged (``minimal``, ``block``) and check the merged machine on ``data``."""
    _, result = closed_loop(minimal, data)
    det = max(result["det"], 1)
    groups, merged = merged_groups(block, minimal.num_states)
    log(f"\nmerging states that predict alike (within TV 0.1) and lead to equivalent states: {machine.num_states} -> "
        f"{minimal.num_states} states ({merged})")
    log(f"the merged machine on the first validation set: {result['machine_right'] / det:.2%} of the deterministic "
        f"symbols right, {result['match'] / det:.2%} the same as the network, {result['stuck']} stuck")
    summary = {"states": minimal.num_states, "merged": groups,
               "machine_right": result["machine_right"] / det, "machine_equals_network": result["match"] / det,
               "stuck": result["stuck"]}
    return minimal, summary


def grammar_agreement(machines, data, log=print):
    """Compare each machine's states (run on the inputs alone) with the Reber grammar's own states.

    machines: (name, machine) pairs; data: the validation strings. Returns a dict per machine.
    """
    found = []
    count = int(data["first"].sum())
    truth = np.append(data["state"], np.zeros(count, dtype=np.int64))  # 0: before the first symbol
    prev = np.where(data["first"], 0, np.roll(data["state"], 1))
    true_next = {}
    for g, a, h in zip(prev.tolist(), data["symbol"].tolist(), data["state"].tolist()):
        true_next.setdefault((g, a), h)
    log(f"\nagreement with the grammar's states ({len(np.unique(truth))} grammar states incl. the start; "
        "each machine run on the inputs alone):")
    for name, machine in machines:
        states = fx.run_machine(machine, data["symbol"], data["first"])
        labels = np.append(states, np.full(count, machine.initial))
        ok = labels >= 0
        agree = fx.agreement(labels[ok], truth[ok])
        table, extracted, grammar = fx.contingency(labels[ok], truth[ok])
        state_map = {int(e): int(grammar[row.argmax()]) for e, row in zip(extracted, table)}
        # a state never reached when the machine runs on its own has no grammar state: its transitions disagree
        share = fx.transition_consistency(machine, {**{s: -1 for s in range(machine.num_states)}, **state_map},
                                          true_next)
        one = "n/a" if agree["one_to_one"] is None else f"{agree['one_to_one']:.2%}"
        log(f"  {name} ({machine.num_states} states): purity {agree['purity']:.2%}, inverse purity "
            f"{agree['inverse_purity']:.2%}, best one-to-one mapping {one}, transitions the grammar makes too "
            f"{share:.2%}")
        log("    state -> its most common grammar state: "
            + ", ".join(f"{e}->{g}" for e, g in sorted(state_map.items())))
        found.append({"machine": name, "states": machine.num_states, "purity": agree["purity"],
                      "inverse_purity": agree["inverse_purity"], "one_to_one": agree["one_to_one"],
                      "transitions_in_grammar": share, "state_map": state_map})
    return found


STEADY_SPREAD = 0.25  # a unit counts steadily in a phase when the sd of its change per symbol is at most this x |mean|
STEADY_RATE = 0.05  # ... and the mean change per symbol is at least this large


def context_summary(data, symbols, log=print):
    """Per LSTM unit, the mean change per symbol within each phase, and which units count steadily.

    A cell unit counts steadily in a phase when its change per symbol there is
    consistent across strings and steps: the standard deviation of the
    changes is at most STEADY_SPREAD times the mean's size, and the mean is
    at least STEADY_RATE. Only such rates are stated as counting. Returns a
    row per cell unit and phase: unit, phase, rate, sd, steady, text.
    """
    same = np.zeros(len(data["symbol"]), dtype=bool)
    same[1:] = (~data["first"][1:]) & (data["symbol"][1:] == data["symbol"][:-1])
    idx = np.nonzero(same)[0]
    run = np.ones(len(same), dtype=np.int64)
    for i in idx:
        run[i] = run[i - 1] + 1
    log("\nmean change of each unit per input symbol, within a phase (sd in brackets):")
    log(f"{'unit':<10}" + "".join(f"{'per ' + c:>20}" for c in symbols))
    stats = {}
    for key, name in (("context", "cell"), ("hidden", "hidden")):
        delta = data[key][idx] - data[key][idx - 1]
        for u in range(data[key].shape[1]):
            row = f"{name + ' ' + str(u):<10}"
            for a in range(len(symbols)):
                d = delta[data["symbol"][idx] == a, u]
                stats[(key, u, a)] = (float(d.mean()), float(d.std())) if len(d) else None
                row += f"{d.mean():>+12.3f} ({d.std():.3f})" if len(d) else f"{'-':>20}"
            log(row)
    rows = []
    log(f"counting (steady: sd of the change at most {STEADY_SPREAD:g} x its mean, mean at least {STEADY_RATE:g}):")
    for a, c in enumerate(symbols):
        for u in range(data["context"].shape[1]):
            if stats[("context", u, a)] is None:
                continue
            mean, sd = stats[("context", u, a)]
            steady = abs(mean) >= STEADY_RATE and sd <= STEADY_SPREAD * abs(mean)
            text = (f"counts {'up' if mean > 0 else 'down'} steadily, {mean:+.3f} per {c} (sd {sd:.3f})" if steady
                    else f"no steady count (mean {mean:+.3f} per {c}, sd {sd:.3f})")
            rows.append({"unit": f"cell {u}", "phase": c, "rate": mean, "sd": sd, "steady": steady, "text": text})
            if steady:
                log(f"  during the {c}'s: cell unit {u} {text}")
    if not any(r["steady"] for r in rows):
        log("  no cell unit counts steadily in any phase")
    counters = [r for r in rows if r["phase"] == symbols[0] and r["steady"] and r["rate"] > 0]
    if counters:
        up = int(max(counters, key=lambda r: r["rate"])["unit"].split()[1])
        log(f"cell unit {up} after the k-th A: "
            + ", ".join(f"k={k} {data['context'][(data['symbol'] == 0) & (run == k), up].mean():+.2f}"
                        for k in range(1, run[data["symbol"] == 0].max() + 1)))
    return rows


def machine_dict(machine, symbols, names=None, shares=None):
    """The machine as plain data for a run record: states, predictions, majority transitions with counts.

    With names (state_names), each state also has its name and the share of its points that name fits.
    """
    nxt = machine.next_state
    named = {} if names is None else {s: {"name": names[s], "share": float(shares[s]) if shares else None}
                                      for s in range(machine.num_states)}
    return {
        "initial": machine.initial,
        "states": [{"state": s, **named.get(s, {}), "points": int(machine.visits[s]),
                    "predicts": predicted_text(machine, s, symbols),
                    "probabilities": {c: float(p) for c, p in zip(symbols, machine.predict[s])}}
                   for s in range(machine.num_states)],
        "transitions": [{"from": s, "on": symbols[a], "to": int(t), "count": int(machine.counts[s, a, t]),
                         "of": int(machine.counts[s, a].sum())}
                        for s in range(machine.num_states) for a, t in enumerate(nxt[s]) if t >= 0],
    }
