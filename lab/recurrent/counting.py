"""An LSTM's counting read from its cell states: the change per symbol of each unit in each phase.
"""
import numpy as np


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
