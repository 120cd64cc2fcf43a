"""Choosing a machine's size and checking it on fresh sequences: within and beyond the training range,
against the network and, for Reber, against the grammar's own states.

The functions print through ``log`` and return their numbers for the run record.
"""
from typing import NamedTuple

import numpy as np

from lab.machines import extract as fx
from lab.machines.text import merged_groups, validation_row
from lab.recurrent.tracing import gather


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


class Attempt(NamedTuple):
    """One machine tried while choosing the size: the machine, the state of each fitted point, its score on the
    selection set (extract.score) and whether it met the criterion."""

    machine: fx.Machine
    labels: np.ndarray
    result: dict
    met: bool

    def line(self):
        """Its line of the printed table."""
        result, det = self.result, max(self.result["det"], 1)
        return (f"{self.machine.num_states:>6} {result['machine_right'] / det:>14.2%} "
                f"{result['net_right'] / det:>14.2%} {result['tv']:>8.3f} {result['stuck']:>6}"
                + ("   <- criterion met" if self.met else ""))

    def row(self):
        """Its row of the run record."""
        result, det = self.result, max(self.result["det"], 1)
        return {"states": self.machine.num_states, "machine_right": result["machine_right"] / det,
                "network_right": result["net_right"] / det, "mean_tv": result["tv"], "stuck": result["stuck"],
                "criterion_met": self.met}


def try_machines(fit, select, lang, settings, log=print):
    """Extract machines with 2, 3, ... states (the start and k clusters) until one meets the criterion.

    ``settings`` (seq_fsm's MachineSettings) gives ``states`` (then only the
    machine with that many states), ``max_states``, the criterion's ``tv``
    and the clustering's ``seed``. Prints a line per machine; returns the
    Attempts in order.
    """
    ks = [settings.states - 1] if settings.states else range(1, settings.max_states)
    log(f"{'states':>6} {'machine right':>14} {'network right':>14} {'mean TV':>8} {'stuck':>6}")
    tried = []
    for k in ks:
        machine, labels = fx.extract(fit["features"], fit["start"], fit["symbol"], fit["first"], fit["output"],
                                     k, lang.num_symbols, seed=settings.seed)
        _, result = closed_loop(machine, select)
        tried.append(Attempt(machine, labels, result, fx.good_enough(result, settings.tv)))
        log(tried[-1].line())
        if tried[-1].met or machine.num_states - 1 < k:  # met, or no more distinct points to split
            break
    return tried


def best_machine(tried):
    """The Attempt to keep: the one that met the criterion, else the one with the most symbols right (the
    lowest mean TV among those); unpacks as (machine, labels, score on the selection set, met)."""
    return max(tried, key=lambda attempt: (attempt.met, attempt.result["machine_right"], -attempt.result["tv"]))


def choose_machine(fit, select, lang, settings, log=print):
    """try_machines, then best_machine: (machine, labels of the fitted points, its score on the selection set,
    whether it met the criterion)."""
    return best_machine(try_machines(fit, select, lang, settings, log))


def validate(machine, model, lang, settings, log=print):
    """Run the machine on fresh sequences within (and for counting languages beyond) the training range.

    ``settings`` gives ``validate``, the sequences per set, and ``seed``.
    Prints the table; returns the within-range data (for the checks that
    follow) and the table's rows as dicts.
    """
    rows = []
    log(f"\nvalidation: the machine run on the input symbols alone, {settings.validate} fresh sequences per set")
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
            samples, ns = fresh(lang, settings.seed, purpose, settings.validate), None
        else:
            rng = np.random.default_rng([settings.seed, purpose])
            samples, ns = counting_samples(lang, rng, settings.validate, low, high)
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
            kept = data
    return kept, rows


def log_unseen(machine, data, states, symbols, log=print):
    """Name the transitions the machine lacked where it got stuck (it stays stuck to the sequence's end)."""
    stuck = (states < 0) & (data["first"] | (np.roll(states, 1) >= 0))
    source = np.where(data["first"], machine.initial, np.roll(states, 1))[stuck]
    pairs, counts = np.unique(np.stack([source, data["symbol"][stuck]], 1), axis=0, return_counts=True)
    if len(pairs):
        log("  stuck on transitions never seen while extracting: " + ", ".join(
            f"state {s} on {symbols[a]} ({c}x)" for (s, a), c in zip(pairs.tolist(), counts.tolist())))


def report_minimal(machine, minimal, block, data, log=print):
    """Say which states lab.machines.extract.minimize merged (``minimal``, ``block``) and check the merged machine on ``data``."""
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
