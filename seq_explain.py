"""Explain how a trained SRN or LSTM solves a counting language, from its own weights and states (Part 3).

    python3 seq_explain.py --lang anb2n                        # the SRN of seq_train.py --lang anb2n
    python3 seq_explain.py --lang anb2nc3n --model lstm        # the LSTM of ... --model lstm --hid 3

Loads the checkpoint the same way seq_plot.py does, reads one string of
each n = 1 .. twice the training n (--beyond times), and measures: the fixed and slow points
of each symbol's map with their eigenvalues, the output's decision
boundaries, each unit's change per symbol in each phase (a straight-line
fit), the unit and threshold that decide every deterministic prediction,
the LSTM's gates, and where each string beyond the training range first
goes wrong. It prints the tables and a few sentences built from them,
draws ``<plot_path>/<name>_explain.jpg`` (each unit along the strings) and,
for two hidden units, ``_flow.jpg`` (each symbol's map) and ``_space.jpg``
(the strings in the hidden space with the decision line), and writes the
run record ``<plot_path>/<name>_explain.json``.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import os

import numpy as np

from lab.common.compute import seed_everything, torch_threads
from lab.common.errors import run_main
from lab.common.figures import pyplot, save_figure
from lab.common.options import parse_settings
from lab.common.records import Record
from lab.explain.analysis import explain
from lab.explain.figures import counter_figure, flow_figure, space_figure
from lab.explain.maps import StateMaps
from lab.explain.sentences import explanation, num, vector
from lab.recurrent.series import language_for, resolve_checkpoint, series_name
from lab.recurrent.settings import ExplainSettings


def tables(result):
    """The measurements as text tables, in the order the sentences use them."""
    lines = ["fixed points of each symbol's map (state; largest |eigenvalue|; type; starts that reached it):"]
    for m in result["maps"]:
        for p in m["fixed"]:
            lines.append(f"  {m['symbol']}: {vector(p['state'])}  {num(p['largest'], 3)}  {p['type']}  {p['reached']}")
        lines += [f"  {m['symbol']}: slow point {vector(p['state'])}, |f(h) - h| {num(p['speed'], 3)}"
                  for p in m["slow"]]
        if not m["fixed"]:
            lines.append(f"  {m['symbol']}: none found")
    lines.append("change per symbol within each phase (straight-line fit over the strings n = 1.."
                 f"{result['length']}):")
    lines.append(f"  {'unit':<14} {'phase':>5} {'rate':>7} {'r^2':>5} {'spread':>7}  verdict")
    lines += [f"  {r['unit']:<14} {r['phase']:>5} {num(r['rate']):>7} {num(r['r2']):>5} {num(r['spread']):>7}  "
              f"{r['verdict']}" for r in result["rates"]]
    lines.append("what decides each deterministic prediction:")
    lines += [f"  the {d['then']} after the last {d['phase']}: {d['unit']} {d['direction']} {num(d['threshold'])} "
              f"(separates {d['separates']:.0%}, gap {num(d['gap'])}; network right {d['network_right']:.0%})"
              for d in result["decisions"]]
    if "gates" in result:
        lines.append("mean gates per phase (input / forget / output):")
        lines += [f"  {g['unit']:<12} {g['phase']}: {num(g['input'])} / {num(g['forget'])} / {num(g['output'])}"
                  for g in result["gates"]]
    for row in result["runs"]:
        counter = row["unit"] + ("" if row.get("with") is None else f" with {row['with']}")
        lines.append(f"{row['phase']} run per n (needed / the network's / predicted from {counter}):")
        lines += [f"  n = {r['n']}: {r['needed']} / {r['network'] or 'never'} / {r['predicted'] or 'never'}"
                  for r in row["runs"]]
    if "path" in result:
        lines.append(f"along the string with n = {result['path']['n']} (value; local multiplier):")
        for phase in result["path"]["phases"]:
            lines.append(f"  {phase['phase']}: " + ", ".join(
                f"{num(st['value'])}; {num(float(np.hypot(*st['eigenvalues'][0])))}" for st in phase["steps"]))
    lines.append("beyond the training range (first wrong deterministic prediction):")
    for row in result["beyond"]:
        e = row["error"]
        where = ("none" if e is None else
                 f"after {e['phase']} {e['count']} of {e['of']}: {e['predicted']} for {e['expected']} ({e['kind']})")
        lines.append(f"  n = {row['n']}: right {row['right']:.0%}; {where}")
    return "\n".join(lines)


def draw(result, maps, folder, name):
    """The analysis's figures; returns the paths written."""
    plt = pyplot()
    figures = {"_explain.jpg": lambda: counter_figure(plt, result)}
    if result["model"] == "srn" and result["hid"] == 2 and len(result["symbols"]) == 2:
        figures.update({"_flow.jpg": lambda: flow_figure(plt, result, maps),
                        "_space.jpg": lambda: space_figure(plt, result)})
    return [save_figure(make(), os.path.join(folder, name + suffix), dpi=110, bbox_inches="tight")
            for suffix, make in figures.items()]


def main(argv=None):
    """Load the network, measure, print, draw and record."""
    settings = parse_settings(ExplainSettings, argv, __doc__.split("\n")[0])
    seed_everything(settings.seed)
    model, ckpt, path = resolve_checkpoint(settings)
    config = ckpt["config"]
    lang = language_for(config, settings.length, path)
    settings.check_top(lang.length, "the checkpoint's training n")
    print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units, "
          f"{ckpt.get('seen', '?')} sequences seen)")
    record = Record("seq_explain.py", argv, settings.as_config())
    with torch_threads(1):
        result = explain(model, lang, seed=settings.seed, beyond=settings.beyond)
    print(tables(result))
    sentences = explanation(result)
    print("\nexplanation:")
    print("\n".join(f"  {s}" for s in sentences))
    name = series_name(lang.tag, config["model"], config["num_hid"])
    written = draw(result, StateMaps(model), settings.plot_path, name)
    for item in written:
        print(f"wrote {item}")
    record.results.update(checkpoint=path, sequences_seen=ckpt.get("seen"), analysis=result, sentences=sentences)
    record.wrote(*written)
    record.write(os.path.join(settings.plot_path, name + "_explain.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
