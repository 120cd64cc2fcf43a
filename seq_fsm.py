"""Read the finite-state machine out of a trained SRN or LSTM, check it, and show how an LSTM counts.

    python3 seq_fsm.py --lang anb2n --epoch 100
    python3 seq_fsm.py --lang reber
    python3 seq_fsm.py --lang anb2nc3n --model lstm

Loads a checkpoint the way seq_plot.py does, runs the network over --sequences
fresh sequences and clusters the states it visits (k-means, see
lab/machines/extract.py). The number of states is --states, or else the fewest whose
machine, run on the input symbols alone over other fresh sequences, predicts
the deterministic symbols as well as the network does (probability above
0.5) and whose predicted distributions stay within --tv (mean total-variation
distance) of the network's. Equivalent states (same predictions, equivalent
successors) are merged, and each state is named after the language's own
state of most of its points ("A3", "b5", "b3c6", "n4"; see
lab.recurrent.states.LanguageStates). Prints the merged machine as a table (--raw:
the clusters before merging) and writes ``<plot_path>/<name>_fsm.dot``
(Graphviz text), ``<name>_fsm.jpg`` (states in the hidden space with their
hulls and transitions) and ``<name>_fsm_graph.jpg`` (the machine as a graph,
laid out by the language's states), name being ``<lang>_<model><hid>``.
Then it validates the extracted machine on fresh sequences within the
training range and, for the counting languages, beyond it (there scoring
only the symbols from the first B on, which n makes certain), checks the
merged machine too, and for the Reber grammars compares both machines'
states with the grammar's; for an LSTM on a counting language it plots the
cell and hidden units along a sequence (``<name>_context.jpg``) and sums up
what each unit does per symbol. A record of the run goes next to the images
(``<name>_fsm.json``).
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import os
import sys

import numpy as np

from lab.machines import extract as fx
from lab.machines.naming import state_names, state_slots
from lab.machines.text import machine_dict, machine_dot, machine_table, merged_groups
from lab.machines.validation import best_machine, fresh, grammar_agreement, report_minimal, try_machines, validate
from lab.recurrent.counting import context_summary
from lab.recurrent.states import LanguageStates
from lab.machines.drawing import context_figure, graph_figure, scatter_figure
from lab.machines.layout import graph_layout
from lab.common.records import Record
from lab.common.files import atomic_write_text
from lab.common.options import add_flags
from lab.common.figures import pyplot, save_figure
from lab.common.errors import run_main
from lab.common.compute import seed_everything, torch_threads
from lab.recurrent.series import language_for, resolve_checkpoint, series_name
from lab.recurrent.settings import MachineSettings
from lab.recurrent.tracing import collect_states, gather


def build_parser():
    """The command-line flags (seq_plot.py's names for picking the checkpoint, plus the extraction's)."""
    return add_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]), MachineSettings)


def main(argv=None):
    """Extract, print, draw and validate the machine; for an LSTM on a counting language, the context units too."""
    settings = MachineSettings(**vars(build_parser().parse_args(argv)))
    model, ckpt, path = resolve_checkpoint(settings)
    config = ckpt["config"]
    lang = language_for(config, settings.length, path)
    record = Record("seq_fsm.py", argv, settings.as_config())
    name = series_name(lang.tag, config["model"], config["num_hid"])
    with torch_threads(settings.threads):
        seed_everything(settings.seed)
        print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units); "
              f"clustering the states of {settings.sequences} fresh sequences")
        machine, fit, chosen = extract(settings, model, lang)
        shown, named = name_states(settings, machine, fit, lang)
        written = draw(settings, shown, fit, lang, name, config)
        checked, drawn = analyse(settings, model, machine, shown["minimal"], lang, config, name)
        for item in written + drawn:
            print(f"wrote {item}")
    record.results.update(checkpoint=path, sequences_seen=ckpt.get("seen"), **chosen, **named, **checked)
    record.wrote(*written, *drawn)
    record.write(os.path.join(settings.plot_path, name + "_fsm.json"), threads=settings.threads)
    return 0


def extract(settings, model, lang):
    """Choose the number of states, extract the machine and print it.

    Returns (machine, the fitted data with each point's state as ``labels``,
    the record's results: a row per machine tried and whether one met the
    criterion).
    """
    fit = gather(model, lang, fresh(lang, settings.seed, 0, settings.sequences))
    select = gather(model, lang, fresh(lang, settings.seed, 1, settings.sequences))
    if settings.states:
        print(f"number of states: --states {settings.states}")
    else:
        print(f"number of states: the fewest whose machine, run on the inputs of {settings.sequences} other fresh "
              f"sequences, predicts the deterministic symbols as well as the network and stays within "
              f"mean TV {settings.tv} of it")
    tried = try_machines(fit, select, lang, settings)
    machine, labels, _, met = best_machine(tried)
    if not settings.states and not met:
        print(f"no machine with up to {settings.max_states} states met the criterion; "
              f"keeping the best one found ({machine.num_states} states)")
    fit["labels"] = labels
    return machine, fit, {"sweep": [attempt.row() for attempt in tried], "criterion_met": bool(met)}


def name_states(settings, machine, fit, lang):
    """Merge equivalent states and name the states of both machines.

    Returns a dict for ``draw`` (the machine to show: merged, or with --raw
    the extracted one; its names, their share of the points and the keys,
    the raw machine and the block of each raw state in the shown one) and
    the record's results (both machines).
    """
    minimal = fx.minimize(machine)
    merged, block = (machine, np.arange(machine.num_states)) if settings.raw else minimal
    namer = LanguageStates(lang)
    keys = namer.keys(fit["symbol"], fit["first"], fit["state"])
    raw_names, _, raw_shares = state_names(machine, fit["labels"], keys, namer)
    names, major, shares = state_names(merged, block[fit["labels"]], keys, namer)
    results = dict(shown="raw" if settings.raw else "merged",
                   machine=machine_dict(merged, lang.symbols, names, shares),
                   raw_machine=machine_dict(machine, lang.symbols, raw_names, raw_shares))
    shown = {"machine": merged, "names": names, "shares": shares, "slots": state_slots(names, major, namer),
             "raw": machine, "block": block, "namer": namer, "minimal": minimal}
    return shown, results


def draw(settings, shown, fit, lang, name, config):
    """Print the shown machine's table and write its DOT text and two figures; returns the paths."""
    symbols, machine, raw, names = lang.symbols, shown["machine"], shown["raw"], shown["names"]
    print(f"\nextracted machine for {name}: {raw.num_states} states (the k-means clusters and the start)")
    if settings.raw:
        print("shown below and drawn: the extracted machine, before merging (--raw)")
    else:
        _, merged = merged_groups(shown["block"], machine.num_states)
        print(f"shown below and drawn: the merged machine, {machine.num_states} states (extracted states merged: "
              f"{merged}; --raw shows the extracted machine)")
    print(shown["namer"].legend())
    print(machine_table(machine, symbols, names, shown["shares"]))
    plt = pyplot(False)
    prefix = os.path.join(settings.plot_path, name)
    positions = graph_layout(machine, shown["slots"])
    written = [prefix + "_fsm.dot"]
    atomic_write_text(machine_dot(machine, symbols, name, names, positions), written[-1])
    unit = "hidden + cell" if config["model"] == "lstm" else "hidden"
    which = "extracted states, before merging" if settings.raw else f"states, merged from {raw.num_states}"
    title = f"{name}: {machine.num_states} {which} ({unit} units)"
    written.append(save_figure(scatter_figure(plt, fit["features"], fit["labels"], machine, fit["start"], symbols,
                                              title, unit, names, (raw, shown["block"])),
                               prefix + "_fsm.jpg", dpi=100))
    which = "extracted machine, before merging" if settings.raw else "merged machine"
    written.append(save_figure(graph_figure(plt, machine, symbols, f"{name}: {which}, {machine.num_states} states",
                                            names, positions), prefix + "_fsm_graph.jpg", dpi=100))
    return written


def analyse(settings, model, machine, merged, lang, config, name):
    """Validate the machine and check the merged one (``merged``: lab.machines.extract.minimize's machine and blocks);
    Reber: agreement with the grammar; an LSTM counting: its context units.

    Returns (the record's results, the files written).
    """
    print("\nthe extracted machine (before merging) is validated; the merged machine is checked after it")
    data, rows = validate(machine, model, lang, settings)
    minimal, summary = report_minimal(machine, *merged, data)
    results, written = {"validation": rows, "merged": summary}, []
    if not lang.counting:
        results["grammar_agreement"] = grammar_agreement(
            [("extracted machine", machine), ("merged machine", minimal)], data)
    if config["model"] == "lstm" and lang.counting:
        results["context_summary"] = context_summary(data, lang.symbols)
        shown = lang.sequence_for(np.arange(1, lang.length + 1))
        trace = collect_states(model, lang, [shown])
        fig = context_figure(pyplot(False), trace, shown[0][:-1], lang.symbols,
                             f"{name}: cell and hidden units along strings with n = 1..{lang.length}")
        written.append(save_figure(fig, os.path.join(settings.plot_path, name + "_context.jpg"), dpi=100))
    print(f"\nnumber of states: {machine.num_states} ({minimal.num_states} after merging equivalent states)")
    return results, written


if __name__ == "__main__":
    sys.exit(run_main(main))
