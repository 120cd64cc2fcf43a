"""An extracted machine as text: its table, DOT file, edge labels, validation rows and a dict for the record.
"""
import numpy as np


def edge_labels(machine, symbols):
    """{(state, next state): "A,B"} for the machine's majority transitions."""
    edges = {}
    for s, row in enumerate(machine.next_state):
        for a, t in enumerate(row):
            if t >= 0:
                edges.setdefault((s, int(t)), []).append(symbols[a])
    return {k: ",".join(v) for k, v in edges.items()}



def predicted_text(machine, state, symbols, floor=0.25):
    """The symbols a state predicts (mean probability at least ``floor``), most likely first, e.g. "A/B"."""
    p = machine.predict[state]
    if not p.any():
        return "-"
    order = [i for i in np.argsort(-p) if p[i] >= floor] or [int(p.argmax())]
    return "/".join(symbols[i] for i in order)


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
    lab's layout (lab.machines.layout.graph_layout), written as ``pos`` so that
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



def merged_groups(block, size):
    """The groups of raw states merged into one (block: each raw state's merged state), and them as text."""
    groups = [g for g in ([s for s in range(len(block)) if block[s] == b] for b in range(size)) if len(g) > 1]
    return groups, ", ".join("+".join(map(str, g)) for g in groups) or "none merged"



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
