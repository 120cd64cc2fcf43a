"""The whole analysis of one trained network on a counting language, as one dictionary for the run record.

``explain(model, lang)`` reads one string of each n = 1 .. 2 x the training
n (``beyond`` x with that argument), and measures: the fixed and slow points of each symbol's map (SRN: the
hidden state; LSTM: hidden and cell state together), the decision
boundaries of the output, each unit's rate per phase, the unit that decides
each deterministic prediction, the LSTM's gates per phase, and the first
error of every string beyond the training range. lab.explain.sentences
turns the result into words.
"""
import numpy as np

from lab.common.errors import UserError
from lab.explain import beyond as errors_beyond, boundaries, counters, fixed_points, path, runs as run_lengths
from lab.explain.maps import StateMaps
from lab.explain.trajectories import read_strings
from lab.recurrent.states import LanguageStates


def state_namer(lang):
    """A function StringRun -> the language state's name after each of its inputs ("A3", "b5", "b3c6")."""
    namer = LanguageStates(lang)
    return lambda run: [namer.name(key) for key in namer.string_keys(run.inputs)]


def _points(maps, runs, symbols, seed):
    """Fixed and slow points of each symbol's map, started from a grid and from the states the strings visit."""
    visited = np.vstack([run.states for run in runs])
    out = []
    for a, symbol in enumerate(symbols):
        fixed, slow = fixed_points.find_points(maps, a, visited, seed=seed)
        out.append({"symbol": symbol, "fixed": [fixed_points.as_record(p) for p in fixed],
                    "slow": [fixed_points.as_record(p) for p in slow[:5]]})
    return out


def explain(model, lang, seed=0, beyond=2):
    """Measure how ``model`` solves the counting language ``lang`` on the strings n = 1 .. ``beyond`` x its training
    n; returns a dict of plain JSON values."""
    if not getattr(lang, "counting", False):
        raise UserError(f"the analysis explains counting languages (anbn, anb2n, anbncn, anb2nc3n); "
                        f"{lang.tag} is not one")
    maps = StateMaps(model)
    symbols = list(lang.symbols)
    length = lang.length
    top = beyond * length
    runs = read_strings(maps, lang, range(1, top + 1))
    trained = [r for r in runs if r.n <= length]
    rates = counters.rates(maps, trained, symbols)
    decisions = counters.decisions(maps, trained, symbols)
    longest = runs[-1]
    cells_only = maps.kind == "lstm"
    # a second unit (a cell, or a hidden unit, whose value feeds the gates) may join an LSTM's counting cell; an
    # SRN's two units would be the whole network
    partners = counters.units(maps) if maps.kind == "lstm" else []
    phase_runs = [run_lengths.phase_runs(maps, lang, trained, phase,
                                         counters.switch_candidates(maps, trained, phase, cells_only),
                                         range(1, top + 1), partners)
                  for phase in range(1, len(symbols))]
    result = {
        "model": maps.kind, "hid": maps.hid, "lang": lang.tag, "length": length, "top": top, "symbols": symbols,
        "mult": list(lang.mult),
        "units": [label for label, _ in counters.units(maps)],
        "maps": _points(maps, runs, symbols, seed),
        "boundaries": boundaries.boundaries(maps, symbols),
        "state_sides": boundaries.state_sides(maps, trained, state_namer(lang), symbols),
        "rates": rates,
        "decisions": decisions,
        "a_values": {label: counters.a_phase_values(longest, index) for label, index in counters.units(maps)},
        "beyond": errors_beyond.beyond(runs, symbols, decisions, rates),
        "runs": phase_runs,
        "drifts": [counters.end_drift(runs, d, symbols.index(d["phase"]), length) for d in decisions],
        "trajectories": [{"n": r.n, "inputs": r.inputs.tolist(), "states": r.states.tolist(),
                          "predicted": r.predicted.tolist(), "targets": r.targets.tolist()} for r in runs],
    }
    stop = errors_beyond.common_stop(result["beyond"], length)
    result["common_stop"] = None if stop is None else {"phase": stop[0], "count": stop[1], "predicted": stop[2]}
    if maps.kind == "lstm":
        result["gates"] = counters.gate_means(maps, trained, symbols)
    else:
        result["path"] = path.mechanism(maps, trained, symbols, list(lang.mult),
                                        {p: r["index"] for p, r in enumerate(phase_runs, start=1)})
    return result
