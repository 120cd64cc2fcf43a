"""Read the finite-state machine out of a trained SRN or LSTM, check it, and show how an LSTM counts (issue 5).

    python3 seq_fsm.py --lang anb2n --epoch 100
    python3 seq_fsm.py --lang reber
    python3 seq_fsm.py --lang anb2nc3n --model lstm

Loads a checkpoint the way seq_plot.py does, runs the network over --sequences
fresh sequences and clusters the states it visits (k-means, see
fsm_extract.py). The number of states is --states, or else the fewest whose
machine, run on the input symbols alone over other fresh sequences, predicts
the deterministic symbols as well as the network does (probability above
0.5) and whose predicted distributions stay within --tv (mean total-variation
distance) of the network's. Prints the machine as a table and writes
``<plot_path>/<name>_fsm.dot`` (Graphviz text), ``<name>_fsm.jpg`` (states
in the hidden space with their hulls and transitions) and
``<name>_fsm_graph.jpg`` (the machine as a graph), name being
``<lang>_<model><hid>``. Then it validates the machine on fresh sequences
within the training range and, for the counting languages, beyond it (there
scoring only the symbols from the first B on, which n makes certain); for
the Reber grammars it compares the machine's states with the grammar's; it
also merges equivalent states (same predictions, equivalent successors) and
reports the smaller machine; for an LSTM on a counting language it plots the
cell and hidden units along a sequence (``<name>_context.jpg``) and sums up
what each unit does per symbol.
"""
import argparse
import os
import sys

import numpy as np

import fsm_extract as fx
from fsm_plots import context_figure, graph_figure, predicted_text, scatter_figure
from runtime import (UserError, atomic_write_text, positive, pyplot, run_main, save_figure, seed_everything,
                     torch_threads)
from seq_plot import add_checkpoint_flags, collect_states, language_for, resolve_checkpoint
from seq_train import certain_given_n, lang_tag

BEYOND = 4  # validate beyond the training range on n = length+1 .. length+BEYOND


def gather(model, lang, samples):
    """The network's trajectories over samples (see seq_plot.collect_states), plus what extraction needs.

    Adds ``features``: the recurrent state after each input (an LSTM's
    hidden and cell units side by side), ``start``: the state before the
    first input, and ``first``: true at each sequence's first input.
    """
    data = collect_states(model, lang, samples)
    if "context" in data:
        data["features"] = np.hstack([data["hidden"], data["context"]])
        data["start"] = np.zeros(data["features"].shape[1])
    else:
        data["features"], data["start"] = data["hidden"], data["initial"]
    data["first"] = data["step"] == 0
    return data


def counting_samples(lang, rng, count, low, high):
    """``count`` sequences of strings with n uniform on low..high; returns (samples, n at each input position)."""
    samples, ns = [], []
    for _ in range(count):
        n = rng.integers(low, high + 1, size=lang.num_strings)
        samples.append(lang.sequence_for(n))
        ns.append(np.repeat(n, n * (1 + sum(lang.mult)))[:-1])
    return samples, np.concatenate(ns)


def fresh(lang, seed, purpose, count):
    """``count`` fresh sequences from the language's own generator, on a stream of their own."""
    rng = np.random.default_rng([seed, purpose])
    return [lang.get_sequence(rng) for _ in range(count)]


def closed_loop(machine, data):
    """Run the machine on a data set's inputs and score it against the language and the network."""
    states = fx.run_machine(machine, data["symbol"], data["first"])
    return states, fx.score(machine, states, data["target"], data["prob"], data["output"])


def choose_machine(fit, select, lang, args, log=print):
    """Extract machines with 2, 3, ... states (the start and k clusters) until one meets the criterion.

    With --states K, only the machine with K states.

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
        rank = (ok, result["machine_right"], -result["tv"])
        if best is None or rank > best[0]:
            best = (rank, machine, labels, result)
        if ok or machine.num_states - 1 < k:  # met, or no more distinct points to split
            break
    _, machine, labels, result = best
    return machine, labels, result, best[0][0]


def machine_table(machine, symbols):
    """The machine as text: per state its points, predictions and (majority) successor on each symbol."""
    nxt = machine.next_state
    head = f"{'state':>6} {'points':>7}  {'predicts':<9} {'mean probabilities':<24}"
    head += "".join(f"  on {c:<14}" for c in symbols)
    lines = [head]
    for s in range(machine.num_states):
        probs = " ".join(f"{symbols[i]} {p:.2f}" for i, p in enumerate(machine.predict[s]) if p >= 0.05)
        row = f"{s:>5}{'*' if s == machine.initial else ' '} {machine.visits[s]:>7}  "
        row += f"{predicted_text(machine, s, symbols):<9} {probs:<24}"
        for a in range(len(symbols)):
            t, total = nxt[s, a], machine.counts[s, a].sum()
            cell = "-" if t < 0 else f"{t} ({machine.counts[s, a, t]}/{total})"
            row += f"  {cell:<17}"
        lines.append(row.rstrip())
    lines.append("* initial state; on X: the state reached on input X (count of that transition / all from here on X)")
    return "\n".join(lines)


def machine_dot(machine, symbols, name):
    """The machine as Graphviz DOT text (``dot -Tpng`` renders it, if Graphviz is installed)."""
    lines = [f'digraph "{name}" {{', "  rankdir=LR;", "  node [shape=circle];",
             '  start [shape=point, label=""];', f"  start -> s{machine.initial};"]
    for s in range(machine.num_states):
        shape = ", shape=doublecircle" if s == machine.initial else ""
        lines.append(f'  s{s} [label="{s}\\n{predicted_text(machine, s, symbols)}"{shape}];')
    nxt = machine.next_state
    for s in range(machine.num_states):
        for a, t in enumerate(nxt[s]):
            if t >= 0:
                lines.append(f'  s{s} -> s{t} [label="{symbols[a]} ({machine.counts[s, a, t]}/'
                             f'{machine.counts[s, a].sum()})"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def validation_row(label, result, nearest, keep):
    """One row of the validation table, over the positions where ``keep`` holds."""
    det = result["det_mask"] & keep
    total = max(int(det.sum()), 1)
    share = lambda right: f"{int((right & det).sum()) / total:.2%}"
    return (f"{label:<24} {int(det.sum()):>13} {share(result['machine_mask']):>14} {share(result['net_mask']):>14}"
            f" {share(result['match_mask']):>18} {int(((result['states'] < 0) & keep).sum()):>6}"
            f" {share(nearest['machine_mask']):>14}")


def validate(machine, model, lang, args, log=print):
    """Run the machine on fresh sequences within (and for counting languages beyond) the training range.

    Returns the within-range data and machine states for later use.
    """
    log(f"\nvalidation: the machine run on the input symbols alone, {args.validate} fresh sequences per set")
    log("(deterministic: positions whose next symbol is certain, beyond the training range only those from the")
    log(" first B on, as n is not known before; right: given probability above 0.5;")
    log(" machine = network: the same most likely symbol; stuck: positions after a transition never seen,")
    log(" where the machine stops for the rest of the sequence; nearest state: the network's own state at each")
    log(" position read as its nearest extracted state, a check of the states without the transitions)")
    log(f"{'set':<24} {'deterministic':>13} {'machine right':>14} {'network right':>14} "
        f"{'machine = network':>18} {'stuck':>6} {'nearest state':>14}")
    if hasattr(lang, "mult"):
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
            result["det_mask"] = result["det_mask"] & certain_given_n(data["symbol"])
        nearest = fx.score(machine, machine.assign(data["features"]), data["target"], data["prob"], data["output"])
        everywhere = np.ones(len(states), dtype=bool)
        log(validation_row(name, result, nearest, everywhere))
        for n in range(low, high + 1) if ns is not None else ():
            log(validation_row(f"  strings with n = {n}", result, nearest, ns == n))
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


def report_minimal(machine, data, log=print):
    """Merge equivalent states (fsm_extract.minimize), say which, and check the merged machine on ``data``."""
    minimal, block = fx.minimize(machine)
    _, result = closed_loop(minimal, data)
    det = max(result["det"], 1)
    groups = [[s for s in range(machine.num_states) if block[s] == b] for b in range(minimal.num_states)]
    merged = ", ".join("+".join(map(str, g)) for g in groups if len(g) > 1) or "none merged"
    log(f"\nmerging states that predict alike (within TV 0.1) and lead to equivalent states: {machine.num_states} -> "
        f"{minimal.num_states} states ({merged})")
    log(f"the merged machine on the first validation set: {result['machine_right'] / det:.2%} of the deterministic "
        f"symbols right, {result['match'] / det:.2%} the same as the network, {result['stuck']} stuck")
    return minimal


def grammar_agreement(machines, data, log=print):
    """Compare each machine's states (run on the inputs alone) with the Reber grammar's own states.

    machines: (name, machine) pairs; data: the validation strings.
    """
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
        share = fx.transition_consistency(machine, state_map, true_next)
        one = "n/a" if agree["one_to_one"] is None else f"{agree['one_to_one']:.2%}"
        log(f"  {name} ({machine.num_states} states): purity {agree['purity']:.2%}, inverse purity "
            f"{agree['inverse_purity']:.2%}, best one-to-one mapping {one}, transitions the grammar makes too "
            f"{share:.2%}")
        log("    state -> its most common grammar state: "
            + ", ".join(f"{e}->{g}" for e, g in sorted(state_map.items())))


def context_summary(data, symbols, log=print):
    """Per LSTM unit, the mean change per symbol within each phase, and which unit counts what."""
    same = np.zeros(len(data["symbol"]), dtype=bool)
    same[1:] = (~data["first"][1:]) & (data["symbol"][1:] == data["symbol"][:-1])
    idx = np.nonzero(same)[0]
    run = np.ones(len(same), dtype=np.int64)
    for i in idx:
        run[i] = run[i - 1] + 1
    log("\nmean change of each unit per input symbol, within a phase (sd in brackets):")
    log(f"{'unit':<10}" + "".join(f"{'per ' + c:>20}" for c in symbols))
    slopes = {}
    for key, name in (("context", "cell"), ("hidden", "hidden")):
        delta = data[key][idx] - data[key][idx - 1]
        for u in range(data[key].shape[1]):
            row = f"{name + ' ' + str(u):<10}"
            for a in range(len(symbols)):
                d = delta[data["symbol"][idx] == a, u]
                slopes[(key, u, a)] = d.mean() if len(d) else 0.0
                row += f"{d.mean():>+12.3f} ({d.std():.3f})" if len(d) else f"{'-':>20}"
            log(row)
    cells = data["context"].shape[1]
    up = max(range(cells), key=lambda u: slopes[("context", u, 0)])
    log(f"cell unit {up} after the k-th A: "
        + ", ".join(f"k={k} {data['context'][(data['symbol'] == 0) & (run == k), up].mean():+.2f}"
                    for k in range(1, run[data["symbol"] == 0].max() + 1)))
    for a in range(len(symbols)):
        rise = max(range(cells), key=lambda u: slopes[("context", u, a)])
        fall = min(range(cells), key=lambda u: slopes[("context", u, a)])
        log(f"during the {symbols[a]}'s: cell unit {rise} rises most ({slopes[('context', rise, a)]:+.3f} per "
            f"{symbols[a]}), cell unit {fall} falls most ({slopes[('context', fall, a)]:+.3f} per {symbols[a]})")


def build_parser():
    """The command-line flags (seq_plot.py's names for picking the checkpoint, plus the extraction's)."""
    p = add_checkpoint_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]),
                             "the images and the .dot file")
    p.add_argument("--sequences", type=positive(int), default=1000,
                   help="fresh sequences whose states are clustered (default: %(default)s)")
    p.add_argument("--validate", type=positive(int), default=1000,
                   help="fresh sequences per validation set (default: %(default)s)")
    p.add_argument("--states", type=int, default=None,
                   help="number of states, the start state included (default: chosen by the criterion)")
    p.add_argument("--max_states", type=int, default=64,
                   help="most states tried when choosing, the start state included (default: %(default)s)")
    p.add_argument("--tv", type=float, default=0.1,
                   help="criterion: largest mean total-variation distance between machine's and network's "
                        "predictions (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for the fresh sequences and the clustering (default: %(default)s)")
    p.add_argument("--threads", type=positive(int), default=1, help="torch CPU threads (default: %(default)s)")
    return p


def check_numbers(args):
    """Reject numbers that make no sense, with a message naming the flag (the positive counts: see the parser)."""
    for flag in ("states", "max_states"):  # the start state and at least one more
        if getattr(args, flag) is not None and getattr(args, flag) < 2:
            raise UserError(f"--{flag} must be at least 2 (the start state and one more), got {getattr(args, flag)}")
    if not 0 < args.tv <= 1:
        raise UserError(f"--tv must be in (0, 1], got {args.tv}")


def main(argv=None):
    """Extract, print, draw and validate the machine; for an LSTM on a counting language, the context units too."""
    args = build_parser().parse_args(argv)
    check_numbers(args)
    model, ckpt, path = resolve_checkpoint(args)
    config = ckpt["config"]
    lang = language_for(config, args.length, path)
    with torch_threads(args.threads):
        return extract_and_report(args, model, config, lang, path)


def extract_and_report(args, model, config, lang, path):
    """The body of main once the checkpoint and language are known."""
    seed_everything(args.seed)
    symbols = lang.symbols
    tag = lang_tag(config["lang"], config.get("embed", False))
    name = f"{tag}_{config['model']}{config['num_hid']}"
    print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units); "
          f"clustering the states of {args.sequences} fresh sequences")
    fit = gather(model, lang, fresh(lang, args.seed, 0, args.sequences))
    select = gather(model, lang, fresh(lang, args.seed, 1, args.sequences))
    if args.states:
        print(f"number of states: --states {args.states}")
    else:
        print(f"number of states: the fewest whose machine, run on the inputs of {args.sequences} other fresh "
              f"sequences, predicts the deterministic symbols as well as the network and stays within "
              f"mean TV {args.tv} of it")
    machine, labels, _, met = choose_machine(fit, select, lang, args)
    if not args.states and not met:
        print(f"no machine with up to {args.max_states} states met the criterion; "
              f"keeping the best one found ({machine.num_states} states)")
    print(f"\nextracted machine for {name}: {machine.num_states} states")
    print(machine_table(machine, symbols))

    plt = pyplot(False)
    prefix = os.path.join(args.plot_path, name)
    written = [prefix + "_fsm.dot"]
    atomic_write_text(machine_dot(machine, symbols, name), written[-1])
    unit = "hidden + cell" if config["model"] == "lstm" else "hidden"
    title = f"{name}: {machine.num_states} extracted states ({unit} units)"
    written.append(save_figure(scatter_figure(plt, fit["features"], labels, machine, fit["start"], symbols, title,
                                              unit), prefix + "_fsm.jpg", dpi=100))
    written.append(save_figure(graph_figure(plt, machine, symbols, f"{name}: extracted machine"),
                               prefix + "_fsm_graph.jpg", dpi=100))

    data, states = validate(machine, model, lang, args)
    minimal = report_minimal(machine, data)
    if config["lang"] == "reber":
        grammar_agreement([("extracted machine", machine), ("merged machine", minimal)], data)
    if config["model"] == "lstm" and hasattr(lang, "mult"):
        context_summary(data, symbols)
        shown = lang.sequence_for(np.arange(1, lang.length + 1))
        trace = collect_states(model, lang, [shown])
        fig = context_figure(plt, trace, shown[0][:-1], symbols,
                             f"{name}: cell and hidden units along strings with n = 1..{lang.length}")
        written.append(save_figure(fig, prefix + "_context.jpg", dpi=100))
    print(f"\nnumber of states: {machine.num_states} ({minimal.num_states} after merging equivalent states)")
    for item in written:
        print(f"wrote {item}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
