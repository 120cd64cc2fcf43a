"""Plain sentences built from an analysis (lab.explain.analysis.explain), number by number.

Every number in a sentence is a value of the analysis, printed to 2
decimals (rates, thresholds, states), 3 (eigenvalue sizes) or as a whole
percentage; every judgement comes from a named rule:
- a unit "counts" in a phase when its straight-line fit has r^2 >= 0.9 and
  |rate| >= 0.05 (lab.explain.counters); otherwise it "changes but not
  steadily" or "stays nearly constant";
- a counter "counts m_p n up and m_q n down" when the rise over a phase and
  the fall over a later one agree within BALANCE of the larger; either way
  the sentence gives their difference per n by the fitted rates;
- where a phase ends, its deciding unit's end value is "steady" over the
  training range when it moves less than STEADY_DRIFT per n (a straight
  line over n, lab.explain.counters), and its slope past the range is told
  with its direction: towards the side of the threshold where the network
  switches, or away from it;
- a forget gate of at least KEEPS (as printed, to 2 decimals) keeps the
  cell's value, one under LEAKS lets it fade; the steady part of a phase and
  its last two steps (where a count collapses) are given apart;
- a unit "decides" a prediction when its threshold separates every position;
  below that the sentence says it does not decide alone;
- a fixed point is "far" when its largest state value is more than FAR times
  the largest the strings visit;
- an attracting point's one-step guarantee uses the Jacobian's norm (its
  largest singular value), not its eigenvalues: only a norm under 1 promises
  that every A shrinks a small distance;
- a unit is "past" its threshold when it lies on the side where its rule
  switches; where that does not match what the network did, the sentence
  says the unit does not account for the error;
- run lengths are the network's own (lab.explain.runs), and a counter
  "predicts" them only as far as the counts of equal and near runs say.
"""
import itertools

import numpy as np

from lab.explain.counters import STEADY_DRIFT

BALANCE = 0.15
KEEPS = 0.9
LEAKS = 0.5
FAR = 2.0


def num(x, digits=2):
    """x to ``digits`` decimals, with no negative zero."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def vector(values, digits=2):
    """(a, b, ...) with each value as ``num`` prints it."""
    return "(" + ", ".join(num(v, digits) for v in values) + ")"


def _phase_mult(result, symbol):
    """The multiplier of a phase (1 for the A's)."""
    index = result["symbols"].index(symbol)
    return 1 if index == 0 else result["mult"][index - 1]


def fixed_point_sentences(result):
    """What each symbol's map does to the state: its fixed points and how fast they attract."""
    out = []
    visited = max(abs(v) for t in result["trajectories"] for s in t["states"] for v in s)
    for m in result["maps"]:
        s, fixed = m["symbol"], m["fixed"]
        if not fixed:
            out.append(f"The {s} map has no fixed point that the search found: the state keeps moving under {s}'s.")
            continue
        main = fixed[0]
        far = max(abs(v) for v in main["state"])
        if far > FAR * visited:
            out.append(f"The {s} map's fixed point lies far from the states the strings visit (largest value "
                       f"{num(far)} against {num(visited)}): under {s}'s the state integrates rather than settles.")
            continue
        text = _point_text(s, main)
        if len(fixed) > 1:
            text += f"; the search found {len(fixed) - 1} more: " + ", ".join(
                f"a {p['type']} point at {vector(p['state'])}" for p in fixed[1:])
        out.append(text + ".")
    return out


def eigen_text(eigenvalues, digits=3):
    """Eigenvalues as "0.064 and 0.000" (real) or "0.258 +- 0.153i" (a complex pair), largest first."""
    parts, skip = [], False
    for k, (re, im) in enumerate(eigenvalues):
        if skip:
            skip = False
            continue
        if abs(im) > 1e-9:
            parts.append(f"{num(re, digits)} +- {num(abs(im), digits)}i")
            skip = k + 1 < len(eigenvalues) and abs(eigenvalues[k + 1][1] + im) < 1e-9
        else:
            parts.append(num(re, digits))
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _point_text(s, point):
    """The main fixed point of the map of ``s`` in words, by its type."""
    where = f"{point['type']} fixed point at {vector(point['state'])} (eigenvalues {eigen_text(point['eigenvalues'])}"
    if point["type"].startswith("attracting"):
        norm = point.get("norm", point["largest"])
        if norm < 1:
            factor = 1 / norm
            return (f"Reading {s}'s drives the state towards the {s} map's {where}: near it each {s} shrinks a small "
                    f"distance to it at least {num(factor, 0 if factor >= 10 else 1)}-fold, the Jacobian's norm "
                    f"being {num(norm, 3)})")
        return (f"Reading {s}'s drives the state towards the {s} map's {where}: every eigenvalue is inside the "
                f"unit circle, so repeated {s}'s close in on it, though one {s} can stretch a small distance up to "
                f"{num(norm)}-fold, the Jacobian's norm)")
    if point["type"].startswith("saddle"):
        return f"The {s} map has a {where}): it draws the state in along some directions and pushes it away along others"
    return f"The {s} map has a {where}): {s}'s push the state away from it"


def ordinal(k):
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _sizes(values):
    return ", ".join(num(v) for v in values)


def path_sentences(result):
    """SRN: where each phase's count is kept (its slow point), the local multipliers along it, and the kind."""
    path = result["path"]
    unit_of = {i: label for i, label in enumerate(result["units"])}
    out = []
    for phase in path["phases"]:
        s, unit, slow = phase["phase"], unit_of[phase["index"]], phase["slow"]
        steps = phase["steps"]
        multipliers = [np.hypot(*st["eigenvalues"][0]) for st in steps]
        values = [st["value"] for st in steps]
        text = (f"Along the string with n = {path['n']}, {unit} reads {_sizes(values)} after 1..{len(values)} "
                f"{s}'s; the local multiplier (the largest |eigenvalue| of the {s} map's Jacobian where each {s} "
                f"is read) runs {_sizes(multipliers)}")
        if slow is None:
            text += f". No slow point of the {s} map lies along the way (none under its median step {num(phase['median_step'])})."
        else:
            sizes = [np.hypot(*z) for z in slow["eigenvalues"]]
            ghost = " (an eigenvalue near 1 where the map nearly has a fixed point)" if abs(sizes[0] - 1) < 0.05 else ""
            text += (f". The {s}'s pass the {s} map's slow point at {vector(slow['state'])}, "
                     f"{num(slow['distance'])} from the nearest state of the string: there one {s} moves the state by "
                     f"{num(slow['speed'], 3)}, against a median step of {num(phase['median_step'])} under {s}, "
                     f"and the eigenvalues are {eigen_text(slow['eigenvalues'])}{ghost}.")
        out.append(text)
    counting = path["phases"][1]
    if path["kind"] == "monotone":
        out.append(f"The solution is monotone, a bottleneck: {unit_of[counting['index']]} moves the same way at "
                   f"every {counting['phase']} after the first, rather than flipping around a saddle.")
    else:
        text = (f"The solution oscillates: {unit_of[counting['index']]} changes direction at most "
                f"{counting['phase']}'s, flipping around a point.")
        rm = path.get("rate_matching")
        if rm is not None:
            m = rm["mult"]
            text += (f" Rate matching: |lambda_A| |lambda_B|^{m} = {num(rm['lambda_a'], 3)} x {num(rm['lambda_b'], 3)}"
                     f"^{m} = {num(rm['product'])} (1 for a perfect counter); the eigenvalues predict "
                     f"{num(rm['per_a'], 1)} B's per A, against {m} needed.")
        elif counting["slow"] is not None:
            largest = np.hypot(*counting["slow"]["eigenvalues"][0])
            if largest <= 1:
                text += (f" It is not the saddle of the rate-matching picture: the {counting['phase']} map's slow "
                         f"point has no eigenvalue outside the unit circle (the largest is {num(largest, 3)}), so "
                         f"no expansion and contraction are matched there.")
        out.append(text)
    return out


def run_sentences(result):
    """Each phase's run as the network makes it, the one counter unit's prediction of it, and where it caps."""
    out = []
    symbols = result["symbols"]
    for row in result["runs"]:
        s = row["phase"]
        before = symbols[symbols.index(s) - 1]
        runs = row["runs"]
        ns = f"n = {runs[0]['n']}..{runs[-1]['n']}"
        own = ", ".join("never" if r["network"] is None else str(r["network"]) for r in runs)
        need = ", ".join(str(r["needed"]) for r in runs)
        predicted = ", ".join("never" if r["predicted"] is None else str(r["predicted"]) for r in runs)
        cross = "falls below" if row["direction"] == "below" else "rises above"
        if row.get("with") is None:
            along = f"{row['unit']}'s value after the first {s}, the {s} map along that unit alone"
            who, seen = ("this unit carries", "the unit is"), "that value"
        else:
            along = (f"{row['unit']}'s and {row['with']}'s values after the first {s}, the {s} map along those two "
                     f"units alone")
            who, seen = ("these two units carry", "they are"), "those values"
        text = (f"Run by the network, the {s} run (the {s}'s read before it predicts another symbol) lasts {own} "
                f"for {ns}, where {need} are needed. From {along} (the rest of the state as seen with {seen}) "
                f"needs {predicted} {s}'s until {row['unit']} {cross} {num(row['threshold'])}: {row['same']} of "
                f"{len(runs)} equal to the network's, {row['near']} within one")
        text += (f", so {who[0]} the count." if row["near"] == len(runs) else
                 f"; {len(runs) - row['near']} differ by more, so {who[1]} not the whole story there.")
        out.append(text)
        cap, lost = row.get("cap"), row.get("collapse")
        if cap is None or lost is None:
            continue
        cut = (f"The {s} run stops growing: it lasts {cap['length']} {s}'s for every n from {cap['from']} to "
               f"{runs[-1]['n']}. After {lost['ns'][0]}..{lost['ns'][-1]} {before}'s {row['unit']} still reads "
               f"{_sizes(lost['before'])}; after the first {s} it reads {', '.join(num(v, 3) for v in lost['after'])}, a spread of "
               f"{num(lost['spread'], 3)} against at least {num(lost['in_range_spacing'])} between neighbouring n "
               f"of the training range")
        cut += (f", so the first {s} erases the count and these n all get the same run." if lost["lost"] else
                f", so the first {s} keeps them apart and the cap comes later, from the {s} map itself.")
        out.append(cut)
    return out


def signed(x, digits=2):
    """x as ``num`` prints it, with its sign: +0.10, -0.03, 0.00."""
    text = num(x, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def drift_sentences(result):
    """Where each phase ends: how the deciding unit's end value moves with n, in the training range (steady or
    not, against STEADY_DRIFT) and past it, and whether that is towards its threshold."""
    out = []
    for d in result.get("drifts", []):
        length = result["length"]
        text = (f"At the last {d['phase']}, where the network decides what follows, {d['unit']} ends at values that "
                f"move by {signed(d['in_range'])} per n over n = 1..{length}")
        way = lambda slope, towards: ("" if float(num(slope)) == 0 else
                                      f", {'towards' if towards else 'away from'} its threshold {num(d['threshold'])}")
        if abs(d["in_range"]) < STEADY_DRIFT:
            text += f" (steady: under {num(STEADY_DRIFT)} per n)"
        else:
            text += f" (drifting{way(d['in_range'], d['towards_in_range'])})"
        if d["beyond"] is not None:
            text += (f" and by {signed(d['beyond'])} per n over n = {length + 1}..{d['ns'][-1]}"
                     + way(d["beyond"], d["towards_beyond"]))
        out.append(text + ".")
    return out


def decision_sentences(result):
    """Which unit's value decides each deterministic prediction, and at what threshold."""
    out = []
    for d in result["decisions"]:
        cross = "falls below" if d["direction"] == "below" else "rises above"
        where = f"the {d['positions']} positions after a {d['phase']} in strings with n = 1..{result['length']}"
        if d["separates"] >= 1.0:
            out.append(f"The network predicts the {d['then']} after the last {d['phase']} when {d['unit']} {cross} "
                       f"{num(d['threshold'])}: that threshold separates all {where} (gap {num(d['gap'])}).")
        else:
            out.append(f"No single unit decides the {d['then']} after the last {d['phase']} alone: the best, "
                       f"{d['unit']} at {num(d['threshold'])}, separates only {d['separates']:.0%} of {where}.")
    return out


def counter_sentences(result):
    """LSTM: per cell unit, its steady counts, whether a count and a later opposite count balance, and the rest."""
    out = []
    for unit in [u for u in result["units"] if u.startswith("cell")]:
        rows = [r for r in result["rates"] if r["unit"] == unit]
        steady = [r for r in rows if r["verdict"].startswith("counts")]
        if not steady:
            continue
        parts = [f"{'rises' if r['rate'] > 0 else 'falls'} by {num(abs(r['rate']))} per {r['phase']} "
                 f"(r^2 {num(r['r2'])})" for r in steady]
        text = f"{unit.capitalize()} " + " and ".join(parts) + balance_clause(result, steady) + "."
        other = [f"during the {r['phase']}'s it {r['verdict']} (rate {num(r['rate'])}, r^2 {num(r['r2'])})"
                 for r in rows if r not in steady and r["verdict"] != "stays nearly constant"]
        if other:
            text += " " + "; ".join(other)[0].upper() + "; ".join(other)[1:] + "."
        out.append(text)
    return out


def times_n(m):
    """"n" for 1, "2n" for 2, ..."""
    return "n" if m == 1 else f"{m}n"


def balance_clause(result, steady):
    """": ... so it counts 2n up and 3n down to within Xn" when a count and a later opposite one cancel, ": ...
    which do not balance: they differ by Xn" when they do not, "" when no two steady phases count in opposite
    directions. The earlier side may be one phase or every earlier phase counting that way together (a cell
    that counts down over the A's and the B's and back up over the C's); the closest match is told."""
    order = result["symbols"].index
    total = lambda row: _phase_mult(result, row["phase"]) * abs(row["rate"])
    options = []
    for then in steady:
        before = [a for a in steady if order(a["phase"]) < order(then["phase"]) and (a["rate"] > 0) != (then["rate"] > 0)]
        options += [([a], then) for a in before] + ([(before, then)] if len(before) > 1 else [])
    if not options:
        return ""
    gap_of = lambda option: abs(sum(map(total, option[0])) - total(option[1])) / max(sum(map(total, option[0])),
                                                                                     total(option[1]))
    firsts, then = min(options, key=lambda option: (gap_of(option) > BALANCE, order(option[1]["phase"]) -
                                                      order(option[0][-1]["phase"]), gap_of(option)))
    one, two = sum(map(total, firsts)), total(then)
    way = ("raise", "lower") if firsts[0]["rate"] > 0 else ("lower", "raise")
    said = [f"{times_n(_phase_mult(result, a['phase']))} {a['phase']}'s" for a in firsts]
    lead = f": {said[0]} {way[0]} it by {num(total(firsts[0]))}n"
    if len(firsts) > 1:
        lead += "".join(f" and {words} by {num(total(a))}n" for words, a in zip(said[1:], firsts[1:]))
        lead += f", together {num(one)}n,"
    m2 = _phase_mult(result, then["phase"])
    lead += f" and {times_n(m2)} {then['phase']}'s {way[1]} it by {num(two)}n"
    gap = f"{num(abs(one - two))}n by the rates fitted over n = 1..{result['length']}"
    if abs(one - two) <= BALANCE * max(one, two):
        words = ("up", "back down") if firsts[0]["rate"] > 0 else ("down", "back up")
        close = "with no gap to two decimals" if num(abs(one - two)) == "0.00" else f"to within {gap}"
        return (lead + f", so it counts {words[0]} over the {' and '.join(said)} and {words[1]} over "
                f"the {times_n(m2)} {then['phase']}'s {close}")
    return lead + f", which do not balance: they differ by {gap}"


def gate_sentences(result):
    """LSTM: the forget gate of each counting cell unit while it counts, the steady part and the last two steps
    apart, judged on the values as printed."""
    out = []
    for unit in [u for u in result["units"] if u.startswith("cell")]:
        counting = [r["phase"] for r in result["rates"] if r["unit"] == unit and r["verdict"].startswith("counts")]
        if not counting:
            continue
        gates = {g["phase"]: g for g in result["gates"] if g["unit"] == unit}
        steady = [round(gates[p]["forget_steady"], 2) for p in counting]
        word = ("near 1, so the cell keeps its value" if min(steady) >= KEEPS else
                "low enough that the cell's value fades" if max(steady) < LEAKS else
                "between keeping and fading")
        parts = [f"{num(gates[p]['forget_steady'])} during the {p}'s, a leak of {(1 - v):.0%} of its value a step, "
                 f"then {num(gates[p]['forget_end'])} over the last two" for p, v in zip(counting, steady)]
        out.append(f"While {unit} counts, its forget gate averages " + "; and ".join(parts)
                   + f" (steadily {word}); its input gate averages "
                   + " and ".join(f"{num(gates[p]['input'])}" for p in counting) + ".")
    return out


def boundary_sentences(result):
    """The decision boundary (2 units: its line) and how many language states lie on the right side."""
    out = []
    if result["hid"] == 2 and len(result["symbols"]) == 2:
        b = result["boundaries"][0]
        (w0, w1), c = b["normal"], b["offset"]
        out.append(f"The output switches between {b['pair'][0]} and {b['pair'][1]} on the line "
                   f"{num(w0)} h0 {'+' if w1 >= 0 else '-'} {num(abs(w1))} h1 {'+' if c >= 0 else '-'} {num(abs(c))}"
                   f" = 0; {b['pair'][0]} is predicted where the left side is positive.")
    det = [s for s in result["state_sides"] if s["expects"] is not None]
    right = [s for s in det if s["predicts"] == s["expects"]]
    text = (f"At the mean hidden state of each language state whose next symbol is certain, the output predicts "
            f"that symbol for {len(right)} of {len(det)}")
    wrong = [s["state"] for s in det if s not in right]
    out.append(text + (f" (not at {', '.join(wrong)})." if wrong else "."))
    return out


def _wrong_text(wrong):
    """Every wrong position of one string, briefly, consecutive ones joined: "after B 9..11 (C for B), after C 14
    (A for C)"."""
    groups = []
    for p, k, got, want in wrong:
        last = groups[-1] if groups else None
        if last and last[0] == p and last[2] == k - 1 and last[3:] == [got, want]:
            last[2] = k
        else:
            groups.append([p, k, k, got, want])
    return ", ".join(f"after {p} {a}" + (f"..{b}" if b > a else "") + f" ({got} for {want})"
                     for p, a, b, got, want in groups)


def _error_sentence(row):
    """Where one string past the training range goes wrong, and what its deciding unit was doing at the first error."""
    e = row["error"]
    side = "past" if e["past"] else "short of"
    text = (f"n = {row['n']}: {row['right']:.0%} of the deterministic symbols right; wrong "
            f"{_wrong_text(row['wrong'])}. The first is {e['kind']}: {e['unit']} was {num(e['value'])}, {side} "
            f"its threshold {num(e['threshold'])}")
    if e["unit_agrees"]:
        return text + ("; it had stopped moving." if e["saturated"] else ".")
    return text + (f", on the side where it does not switch, so it does not account for this error: the output "
                   f"itself put {e['predicted']} ahead by {num(e['margin'])} in its logits.")


def beyond_sentences(result):
    """Where the network goes wrong for each n past the training range (consecutive wholly right n's told
    together), why, and the common stop if any."""
    out = []
    past = [row for row in result["beyond"] if row["n"] > result["length"]]
    for right, group in itertools.groupby(past, key=lambda row: row["error"] is None):
        group = list(group)
        if right:
            ns = str(group[0]["n"]) + (f"..{group[-1]['n']}" if len(group) > 1 else "")
            out.append(f"n = {ns}: every deterministic symbol right.")
        else:
            out += [_error_sentence(row) for row in group]
    stop = result["common_stop"]
    if stop is not None:
        ns = [r["n"] for r in result["beyond"] if r["n"] > result["length"]]
        mult = _phase_mult(result, stop["phase"])
        text = (f"For every n from {ns[0]} to {ns[-1]} the first error is the {stop['predicted']} predicted after the "
                f"{ordinal(stop['count'])} {stop['phase']}: its {stop['phase']} count stops at {stop['count']}")
        if stop["count"] == mult * result["length"]:
            text += f", {mult} x {result['length']}, the longest run of {stop['phase']}'s it was trained on"
        out.append(text + ".")
    return out


def explanation(result):
    """All the sentences for one network, in reading order: a list of strings."""
    if result["model"] == "srn":
        parts = (fixed_point_sentences, path_sentences, decision_sentences, run_sentences, drift_sentences,
                 boundary_sentences, beyond_sentences)
    else:
        parts = (counter_sentences, gate_sentences, decision_sentences, run_sentences, drift_sentences,
                 fixed_point_sentences, boundary_sentences, beyond_sentences)
    return [s for part in parts for s in part(result)]
