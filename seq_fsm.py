"""Read the finite-state machine out of a trained SRN or LSTM, check it, and show how an LSTM counts.

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
what each unit does per symbol. A record of the run goes next to the images
(``<name>_fsm.json``).
"""
import argparse
import os
import sys

import numpy as np

import fsm_report as fr
from fsm_plots import context_figure, graph_figure, scatter_figure
from records import Record
from runtime import atomic_write_text, number, positive, pyplot, run_main, save_figure, seed_everything, seed_number, \
    torch_threads
from seq_checkpoints import add_checkpoint_flags, language_for, resolve_checkpoint
from seq_trace import collect_states, gather
from seq_training import settings_for


def build_parser():
    """The command-line flags (seq_plot.py's names for picking the checkpoint, plus the extraction's)."""
    p = add_checkpoint_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]),
                             "the images and the .dot file")
    p.add_argument("--sequences", type=positive(int), default=1000,
                   help="fresh sequences whose states are clustered (default: %(default)s)")
    p.add_argument("--validate", type=positive(int), default=1000,
                   help="fresh sequences per validation set (default: %(default)s)")
    p.add_argument("--states", type=number(int, low=2, high=10_000), default=None,
                   help="number of states, the start state included (default: chosen by the criterion)")
    p.add_argument("--max_states", type=number(int, low=2, high=10_000), default=64,
                   help="most states tried when choosing, the start state included (default: %(default)s)")
    p.add_argument("--tv", type=number(float, above=0, high=1), default=0.1,
                   help="criterion: largest mean total-variation distance between machine's and network's "
                        "predictions (default: %(default)s)")
    p.add_argument("--seed", type=seed_number(), default=0,
                   help="seed for the fresh sequences and the clustering (default: %(default)s)")
    p.add_argument("--threads", type=positive(int), default=1, help="torch CPU threads (default: %(default)s)")
    return p


def main(argv=None):
    """Extract, print, draw and validate the machine; for an LSTM on a counting language, the context units too."""
    args = build_parser().parse_args(argv)
    model, ckpt, path = resolve_checkpoint(args, settings_for(args.lang, args.model, args.embed)["hid"])
    config = ckpt["config"]
    lang = language_for(config, args.length, path)
    record = Record("seq_fsm.py", argv, vars(args))
    record.results.update(checkpoint=path, sequences_seen=ckpt.get("seen"))
    name = f"{lang.tag}_{config['model']}{config['num_hid']}"
    with torch_threads(args.threads):
        seed_everything(args.seed)
        print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units); "
              f"clustering the states of {args.sequences} fresh sequences")
        machine, fit = extract(args, model, lang, record.results)
        written = draw(args, machine, fit, lang, name, config)
        analyse(args, model, machine, lang, config, name, record.results, written)
    record.wrote(*written)
    record.write(os.path.join(args.plot_path, name + "_fsm.json"), threads=args.threads)
    return 0


def extract(args, model, lang, results):
    """Choose the number of states, extract the machine and print it; returns (machine, the fitted data)."""
    fit = gather(model, lang, fr.fresh(lang, args.seed, 0, args.sequences))
    select = gather(model, lang, fr.fresh(lang, args.seed, 1, args.sequences))
    if args.states:
        print(f"number of states: --states {args.states}")
    else:
        print(f"number of states: the fewest whose machine, run on the inputs of {args.sequences} other fresh "
              f"sequences, predicts the deterministic symbols as well as the network and stays within "
              f"mean TV {args.tv} of it")
    sweep = results.setdefault("sweep", [])
    machine, labels, _, met = fr.choose_machine(fit, select, lang, args, sweep=sweep)
    if not args.states and not met:
        print(f"no machine with up to {args.max_states} states met the criterion; "
              f"keeping the best one found ({machine.num_states} states)")
    results.update(criterion_met=bool(met), machine=fr.machine_dict(machine, lang.symbols))
    fit["labels"] = labels
    return machine, fit


def draw(args, machine, fit, lang, name, config):
    """Print the machine's table and write its DOT text and two figures; returns the paths."""
    symbols = lang.symbols
    print(f"\nextracted machine for {name}: {machine.num_states} states")
    print(fr.machine_table(machine, symbols))
    plt = pyplot(False)
    prefix = os.path.join(args.plot_path, name)
    written = [prefix + "_fsm.dot"]
    atomic_write_text(fr.machine_dot(machine, symbols, name), written[-1])
    unit = "hidden + cell" if config["model"] == "lstm" else "hidden"
    title = f"{name}: {machine.num_states} extracted states ({unit} units)"
    written.append(save_figure(scatter_figure(plt, fit["features"], fit["labels"], machine, fit["start"], symbols,
                                              title, unit), prefix + "_fsm.jpg", dpi=100))
    written.append(save_figure(graph_figure(plt, machine, symbols, f"{name}: extracted machine"),
                               prefix + "_fsm_graph.jpg", dpi=100))
    return written


def analyse(args, model, machine, lang, config, name, results, written):
    """Validate and merge the machine; Reber: agreement with the grammar; an LSTM counting: its context units."""
    data, _ = fr.validate(machine, model, lang, args, rows=results.setdefault("validation", []))
    minimal, results["merged"] = fr.report_minimal(machine, data)
    if not lang.counting:
        results["grammar_agreement"] = fr.grammar_agreement(
            [("extracted machine", machine), ("merged machine", minimal)], data)
    if config["model"] == "lstm" and lang.counting:
        results["context_summary"] = fr.context_summary(data, lang.symbols)
        shown = lang.sequence_for(np.arange(1, lang.length + 1))
        trace = collect_states(model, lang, [shown])
        fig = context_figure(pyplot(False), trace, shown[0][:-1], lang.symbols,
                             f"{name}: cell and hidden units along strings with n = 1..{lang.length}")
        written.append(save_figure(fig, os.path.join(args.plot_path, name + "_context.jpg"), dpi=100))
    print(f"\nnumber of states: {machine.num_states} ({minimal.num_states} after merging equivalent states)")
    for item in written:
        print(f"wrote {item}")


if __name__ == "__main__":
    sys.exit(run_main(main))
