"""Plain sentences built from an analysis (lab.explain.analysis.explain), number by number.

Every number in a sentence is a value of the analysis, printed to 2
decimals (rates, thresholds, states), 3 (eigenvalue sizes) or as a whole
percentage; every judgement comes from a named rule:
- a unit "counts" in a phase when its straight-line fit has r^2 >= 0.9 and
  |rate| >= 0.05 (lab.explain.counters); otherwise it "changes but not
  steadily" or "stays nearly constant";
- a counter "counts m_p n up and m_q n down" when the rise over a phase and
  the fall over a later one agree within BALANCE of the larger;
- a forget gate of at least KEEPS keeps the cell's value, one under LEAKS
  lets it fade;
- a unit "decides" a prediction when its threshold separates every position;
  below that the sentence says it does not decide alone;
- a fixed point is "far" when its largest state value is more than FAR times
  the largest the strings visit.
"""
BALANCE = 0.15
KEEPS = 0.9
LEAKS = 0.5
FAR = 2.0
STILL = 0.01  # an A-phase change under this means the count has saturated


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


def _point_text(s, point):
    """The main fixed point of the map of ``s`` in words, by its type."""
    where = f"{point['type']} fixed point at {vector(point['state'])} (largest |eigenvalue| {num(point['largest'], 3)}"
    if point["type"].startswith("attracting"):
        factor = 1 / max(point["largest"], 1e-3)
        return (f"Reading {s}'s drives the state towards the {s} map's {where}: near it each {s} shrinks the "
                f"distance to it at least {num(factor, 0 if factor >= 10 else 1)}-fold)")
    if point["type"].startswith("saddle"):
        return f"The {s} map has a {where}): it draws the state in along some directions and pushes it away along others"
    return f"The {s} map has a {where}): {s}'s push the state away from it"


def ordinal(k):
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def transient_sentences(result):
    """SRN: the A count read off the unit that moves most during the A's, and where it saturates."""
    length = result["length"]
    values = result["a_values"]
    unit = max(values, key=lambda u: abs(values[u][length - 1] - values[u][0]))
    reads = values[unit]
    settles = any(p["type"].startswith("attracting") for p in result["maps"][0]["fixed"][:1])
    lead = ("The count of A's is held in the transient towards that point" if settles
            else "The count of A's is carried by the unit that moves most")
    text = f"{lead}: after 1..{length} A's {unit} reads " + ", ".join(num(v) for v in reads[:length]) + "."
    late = reads[length - 1:]
    steps = [abs(b - a) for a, b in zip(late, late[1:])]
    still = next((i for i, d in enumerate(steps) if d < STILL), None)
    if still is not None:
        k = length + still + 1
        text += (f" Past the training range it saturates: after {k - 1} and {k} A's it reads "
                 f"{num(reads[k - 2])} and {num(reads[k - 1])}, so more A's no longer change the state.")
    else:
        text += (f" Past the training range it goes on moving: after {length + 1}..{len(reads)} A's it reads "
                 + ", ".join(num(v) for v in reads[length:]) + ".")
    return [text]


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
    """": ... so it counts 2n up and 3n down" when a count and a later opposite one cancel, ": ... which do not
    balance" when they do not, "" when no two steady phases count in opposite directions."""
    order = result["symbols"].index
    pairs = [(a, b) for a in steady for b in steady
             if order(a["phase"]) < order(b["phase"]) and (a["rate"] > 0) != (b["rate"] > 0)]
    if not pairs:
        return ""
    first, then = min(pairs, key=lambda ab: order(ab[1]["phase"]) - order(ab[0]["phase"]))
    m1, m2 = _phase_mult(result, first["phase"]), _phase_mult(result, then["phase"])
    one, two = m1 * abs(first["rate"]), m2 * abs(then["rate"])
    way = ("raise", "lower") if first["rate"] > 0 else ("lower", "raise")
    lead = (f": {times_n(m1)} {first['phase']}'s {way[0]} it by {num(one)}n and {times_n(m2)} {then['phase']}'s "
            f"{way[1]} it by {num(two)}n")
    if abs(one - two) <= BALANCE * max(one, two):
        words = ("up", "down") if first["rate"] > 0 else ("down", "up")
        return lead + f", so it counts {times_n(m1)} {words[0]} and {times_n(m2)} {words[1]}"
    return lead + ", which do not balance"


def gate_sentences(result):
    """LSTM: the forget gate of each counting cell unit while it counts."""
    out = []
    for unit in [u for u in result["units"] if u.startswith("cell")]:
        counting = [r["phase"] for r in result["rates"] if r["unit"] == unit and r["verdict"].startswith("counts")]
        if not counting:
            continue
        gates = {g["phase"]: g for g in result["gates"] if g["unit"] == unit}
        values = [gates[p]["forget"] for p in counting]
        word = ("near 1, so the cell keeps its value" if min(values) >= KEEPS else
                "low enough that the cell's value fades" if max(values) < LEAKS else "between keeping and fading")
        out.append(f"While {unit} counts, its forget gate averages "
                   + " and ".join(f"{num(v)} during the {p}'s" for v, p in zip(values, counting))
                   + f" ({word}); its input gate averages "
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


def beyond_sentences(result):
    """Where the network first goes wrong for each n past the training range, and the common stop if any."""
    out = []
    for row in result["beyond"]:
        if row["n"] <= result["length"]:
            continue
        e = row["error"]
        if e is None:
            out.append(f"n = {row['n']}: every deterministic symbol right.")
            continue
        side = "past" if (e["value"] < e["threshold"]) == (e["kind"] == "too early") else "short of"
        out.append(f"n = {row['n']}: {row['right']:.0%} of the deterministic symbols right; the first wrong one is "
                   f"after {e['phase']} {e['count']} of {e['of']}, {e['predicted']} predicted instead of "
                   f"{e['expected']} ({e['kind']}: {e['unit']} was {num(e['value'])}, {side} its threshold "
                   f"{num(e['threshold'])}" + ("; it had stopped moving" if e["saturated"] else "") + ").")
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
        parts = (fixed_point_sentences, transient_sentences, decision_sentences, boundary_sentences,
                 beyond_sentences)
    else:
        parts = (counter_sentences, gate_sentences, decision_sentences, fixed_point_sentences,
                 boundary_sentences, beyond_sentences)
    return [s for part in parts for s in part(result)]
