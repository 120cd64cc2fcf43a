"""The content of the lab report, built from the run records of its steps (see lab.report.steps).

Each ``part*`` function returns the blocks of one part (lab.report.document's model):
tables and figures in the order of the lab, each captioned with the command
that reproduces it and the record its numbers come from. A step that failed
or was skipped shows why instead of its results.
"""
import os

from lab.report.checks import explanation_problem, image_problem, read_run_record, top_n
from lab.report.viewer import views

PART_TITLES = {1: "Part 1: Kuzushiji-MNIST characters", 2: "Part 2: a 2-layer network on the check data",
               3: "Part 3: hidden-unit dynamics of recurrent networks"}


class Context:
    """What the part builders need: the report's folder (as built and as named) and the steps."""

    def __init__(self, folder, out, steps):
        self.folder, self.out = folder, out
        self.steps = {step.name: step for step in steps}
        self.records = {}

    def record(self, name):
        """The run record of a finished step, or None."""
        step = self.steps.get(name)
        if step is None or not step.finished:
            return None
        if name not in self.records:  # every part reads its records more than once; read and check each once
            self.records[name] = read_run_record(os.path.join(self.folder, step.record))
        return self.records[name]

    def source(self, name):
        """`command`; record `path`: the caption's tail that says where numbers and images come from."""
        step = self.steps[name]
        return f"`{step.command(self.out)}` (record `{os.path.join(self.out, step.record)}`)"

    def problem(self, name):
        """A note block saying why a step gave nothing, or None if it finished."""
        step = self.steps[name]
        if step.finished:
            return None
        if step.status == "skipped":
            return ("note", f"Skipped: {step.title}: {step.message}.")
        text = step.message
        if "KMNIST not found" in text:
            text += ("\nHow to fix: run once with internet access (the files are downloaded into data/KMNIST/raw/), "
                     "or point to a copy with `python3 report.py --data DIR` or KMNIST_DATA=DIR, where DIR holds "
                     "KMNIST/raw/.")
        return ("note", f"Failed: {step.title} (`{step.command(self.out)}`):\n{text}")

    def figures(self, record, *suffixes):
        """The record's files that end in any of ``suffixes``, in the order written, that exist and are whole."""
        return [p for p in record["files"] if p.endswith(suffixes) and os.path.isfile(os.path.join(self.folder, p))
                and image_problem(os.path.join(self.folder, p)) is None]


def fmt(value, digits=4):
    """A number as text for a table."""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def training_notes(results):
    """Sentences on how a Part 1 run was tested (the final test's views and weights) and at what thread counts."""
    notes, final = [], results.get("final_test") or {}
    if final.get("views", 1) > 1 or final.get("averaged"):
        how = (f"each image's prediction averaged over {final['views']} views (itself and its one-pixel moves)"
               if final.get("views", 1) > 1 else "one view per image")
        weights = "the average of the weights over the last steps" if final.get("averaged") else "the last weights"
        compared = "; ".join(f"{name}: {value:.2f}%" for name, value in final.get("compared", {}).items())
        notes.append(f"Final test of {weights}, {how}: {final['accuracy']:.2f}%"
                     + (f" (compared: {compared})" if compared else "") + ".")
    chosen = any(row.get("thread_looks") for row in results["epochs"])  # no looks: a fixed --threads
    counts = [row["threads"] for row in results["epochs"] if "threads" in row] if chosen else []
    if counts:
        per_count = ", ".join(f"{counts.count(c)} at {c} thread{'s' * (c > 1)}" for c in sorted(set(counts)))
        notes.append(f"Thread count chosen while training (by timing the steps); epochs mostly run {per_count}.")
    return notes


def part1(ctx):
    """Accuracy table, then per net the confusion matrix, most-confused pairs, samples and curve."""
    nets = [("kuzu_lin", "NetLin"), ("kuzu_full", "NetFull"), ("kuzu_conv", "NetConv")]
    blocks, rows = [], []
    for name, title in nets:
        if name not in ctx.steps:
            continue
        record = ctx.record(name)
        if record is None:
            blocks.append(ctx.problem(name))
            continue
        r = record["results"]
        rows.append([title, f"{r['accuracy']:.2f}%", f"{r['correct']}/{r['test_images']}", f"{r['parameters']:,}",
                     "; ".join(r["arithmetic"][:-1]), f"{record['wall_time_s']:.1f} s"])
    if rows:
        blocks.insert(0, ("table", ["net", "test accuracy", "right", "independent parameters", "arithmetic",
                                    "wall time"], rows,
                          "Test accuracy after the last epoch (the final test, where a net's notes below describe one); parameters counted layer by layer; wall time of the "
                          "whole run (data, training, tests, plots). From "
                          + "; ".join(ctx.source(name) for name, _ in nets if name in ctx.steps and ctx.record(name))
                          + "."))
    for name, title in nets:
        record = ctx.record(name) if name in ctx.steps else None
        if record is None:
            continue
        r = record["results"]
        blocks.append(("heading", f"{title}: {r['accuracy']:.2f}% after {len(r['epochs'])} epoch(s)"))
        classes = r["classes"]
        table = [[classes[i]] + [str(v) for v in row] for i, row in enumerate(r["confusion"])]
        blocks.append(("table", ["true \\ chosen", *classes], table,
                       f"Confusion matrix of {title} on the 10,000 test images (rows: the true character, "
                       f"columns: the network's choice). From {ctx.source(name)}."))
        blocks.extend(("text", text) for text in training_notes(r))
        pairs = ", ".join(f"{p['true']} -> {p['chosen']} ({p['count']})" for p in r["most_confused"])
        blocks.append(("text", f"Most confused (true -> chosen): {pairs}."))
        captions = {"_confusion.jpg": "Confusion heatmap", "_samples.jpg":
                    "Test examples per class: six it got right, then up to four it got wrong (red, with its choice)",
                    "_curve.jpg": "Training loss and test accuracy per epoch"}
        for suffix, caption in captions.items():
            for path in ctx.figures(record, suffix):
                blocks.append(("figure", path, f"{caption}, {title}. {ctx.source(name)}"))
    return blocks + _why_confused(ctx, nets)


def _why_confused(ctx, nets):
    """Why these characters are confused: per net, the measured sentences and the pairs' figure."""
    blocks = []
    for name, title in nets:
        record = ctx.record(name) if name in ctx.steps else None
        if record is None or not record["results"].get("why_confused"):
            continue
        if not blocks:
            blocks.append(("heading", "Why these characters are confused"))
        blocks.append(("list", record["results"]["why_confused"],
                       f"{title}: its three most-confused pairs, measured on the test images. From {ctx.source(name)}."))
        for path in ctx.figures(record, "_pairs.jpg"):
            weights = (", the difference of the two weight images (red pixels speak for the true character)"
                       if name == "kuzu_lin" else "")
            blocks.append(("figure", path, f"{title}'s most-confused pairs: the two characters' mean test images, their "
                                           f"difference (red: darker in the true character){weights}, then misread "
                                           f"examples (red frames) beside ones read right. {ctx.source(name)}"))
    return blocks


def part2(ctx):
    """The trained sigmoid network, the hand design with steps, and the same design as sigmoids."""
    blocks = []
    for name in ("check_sig_5", "check_step_4_set", "check_sig_4_set"):
        if name not in ctx.steps:
            continue
        step = ctx.steps[name]
        blocks.append(("heading", step.title[0].upper() + step.title[1:]))
        record = ctx.record(name)
        if record is None:
            blocks.append(ctx.problem(name))
            continue
        r = record["results"]
        if r.get("trained"):
            held = "100% accuracy held for 2000 epochs" if r.get("reached") else "stopped without holding 100%"
            blocks.append(("text", f"Trained: accuracy {r['accuracy']:.2f}%, {r['epochs']} epochs ({held}), "
                                   f"{r['restarts']} restart(s). From {ctx.source(name)}."))
        else:
            blocks.append(("text", f"Hand-set weights, not trained: accuracy {r['accuracy']:.2f}%. "
                                   f"From {ctx.source(name)}."))
        for path in ctx.figures(record, ".jpg"):
            if os.path.basename(path).startswith("check_net_"):
                blocks.append(("figure", path, f"The network with its weights and biases. {ctx.source(name)}"))
        blocks.append(("code", "\n".join(r["dividing_lines"]), "Dividing lines of the hidden units."))
        blocks.append(("code", r["activation_table"], "Activations of every hidden unit and the output for the "
                                                      "nine items."))
        for path in ctx.figures(record, ".jpg"):
            base = os.path.basename(path)
            if base.startswith("hid_"):
                unit = int(base.rsplit("_", 1)[1].split(".")[0]) + 1
                blocks.append(("figure", path, f"Hidden unit H{unit}: grey where it is on. {ctx.source(name)}"))
            elif base.startswith("out_"):
                blocks.append(("figure", path, f"The output unit: grey where it is on. {ctx.source(name)}"))
    return blocks


def _training(ctx, name, label):
    """The loss curve and verdict of a Part 3 training run."""
    record = ctx.record(f"train_{name}")
    if record is None:
        return [ctx.problem(f"train_{name}")]
    r = record["results"]
    v = r["verdict"]
    share = v["det_right"] / max(v["det_total"], 1)
    chosen = (f" The best of {r['candidates']} candidates (number {r['chosen']}) was kept at {r['chosen_at']}k "
              "sequences." if r["candidates"] > 1 else "")
    blocks = [("text", f"{label}: trained on {r['sequences_seen']:,} sequences; on {v['sequences']} fresh ones it "
                       f"predicts {share:.1%} of the deterministic symbols, mean loss {v['loss']:.4f} "
                       f"(target {r['target_loss']}): {'learned' if r['learned'] else 'not learned yet'}.{chosen} "
                       f"From {ctx.source(f'train_{name}')}.")]
    for path in ctx.figures(record, "_loss.jpg"):
        blocks.append(("figure", path, f"Reported loss over training (log scale). {ctx.source(f'train_{name}')}"))
    return blocks


def _view_caption(path, what):
    """What one seq_plot.py figure shows, from its file name: which units, which view."""
    stem = os.path.splitext(os.path.basename(path))[0]
    unit = "cell unit" if "_context" in stem else "hidden unit"
    tail = stem.rsplit("_", 1)[1]
    if "_3d_" in stem:
        angle = {"front": "from the front", "side": "from the side", "top": "from the top"}.get(tail, tail)
        return f"{what}: {unit}s 0, 1 and 2 in 3-D, seen {angle}"
    if len(tail) == 2 and tail.isdigit():
        return f"{what}: {unit} {tail[0]} (across) against {unit} {tail[1]} (up)"
    return what


def _hidden(ctx, step, what):
    """The hidden-unit (or cell-unit) figures of a seq_plot.py step, each captioned with its units and view."""
    if step not in ctx.steps:
        return []
    record = ctx.record(step)
    if record is None:
        return [ctx.problem(step)]
    return [("figure", path, f"{_view_caption(path, what)}; each point a state the network visited, coloured by "
                             f"the language's state. {ctx.source(step)}") for path in ctx.figures(record, ".jpg")]


def _machine(ctx, name):
    """The extracted machine: its size, figures, validation table, merged size, and an LSTM's counting."""
    step = f"fsm_{name}"
    record = ctx.record(step)
    if record is None:
        return [ctx.problem(step)]
    r = record["results"]
    raw = r.get("raw_machine", r["machine"])
    blocks = [("text", f"Extracted machine: {len(raw['states'])} states, {r['merged']['states']} after merging "
                       f"equivalent states ({'the criterion was met' if r['criterion_met'] else 'criterion not met'})"
                       f". From {ctx.source(step)}.")]
    captions = {"_fsm.jpg": "The states the network visits, grouped into the merged machine's states (named in the "
                            "language's terms), with transitions",
                "_fsm_graph.jpg": "The merged machine as a graph, laid out by phase",
                "_context.jpg": "Cell and hidden units along strings with n = 1..4, the phases shaded"}
    for suffix, caption in captions.items():
        for path in ctx.figures(record, suffix):
            blocks.append(("figure", path, f"{caption}. {ctx.source(step)}"))
    rows = [[row["set"], row["deterministic"], f"{row['machine_right']:.2%}", f"{row['network_right']:.2%}",
             f"{row['machine_equals_network']:.2%}", row["stuck"], f"{row['nearest_state']:.2%}"]
            for row in r["validation"]]
    blocks.append(("table", ["set", "deterministic", "machine right", "network right", "machine = network", "stuck",
                             "nearest state"], rows,
                   "The machine run on the input symbols alone over fresh sequences: the share of the deterministic "
                   f"symbols it predicts (probability above 0.5), against the network. From {ctx.source(step)}."))
    blocks += _beyond_note(r["validation"], ctx.source(step))
    if r.get("context_summary"):
        summary = r["context_summary"]
        blocks.append(("table", ["cell unit", "phase", "mean change per symbol", "sd", "counts steadily"],
                       [[row["unit"], row["phase"], f"{row['rate']:+.3f}", f"{row['sd']:.3f}",
                         "yes" if row["steady"] else "no"] for row in summary],
                       "How the LSTM's cell units change within each phase; a unit counts steadily when the sd of "
                       "its change is at most a quarter of the mean change (and the mean is at least 0.05). "
                       f"From {ctx.source(step)}."))
    return blocks


def _beyond_note(rows, source):
    """A sentence under the validation table saying what "stuck" and the machine's score beyond the range mean."""
    beyond = next((row for row in rows if row["set"].startswith("beyond")), None)
    if beyond is None:
        return []
    return [("text", f"Beyond the training range ({beyond['set'][len('beyond '):].strip('()')}) the machine is right "
                     f"on {beyond['machine_right']:.2%} of the {beyond['deterministic']} deterministic symbols: it was "
                     "extracted from strings with n up to the training n, so a longer string soon brings a transition "
                     "it never saw (a string with more A's than any in training brings one more A than it has a state "
                     f"for), and from there it has no state. \"stuck\" counts those positions, {beyond['stuck']} here, "
                     f"all scored wrong. The network itself gets {beyond['network_right']:.2%}; where and why it goes "
                     f"wrong is measured in the explanation below. From {source}.")]


EXPLAIN_TITLES = {"anb2n_srn2": "How the SRN predicts a^n b^2n", "anb2nc3n_lstm3": "How the LSTM counts a^n b^2n c^3n"}
EXPLAIN_FIGURES = {
    "_flow.jpg": "Each symbol's map of the hidden state: arrows from h to f(h) (a quarter of their length), the map's "
                 "fixed points (filled: attracting, open: repelling, x: saddle) and slow points (grey), the line "
                 "where P(A) = P(B), and the path of the longest training string",
    "_space.jpg": "One string of each n = 1..8 in the hidden space (dashed: beyond the training range), the two sides "
                  "of the decision line shaded and named, the first wrong prediction of each longer string as a red x",
    "_explain.jpg": "Each unit (cells first for the LSTM) along one string of each n = 1..8, one column per phase so "
                    "that every string's phase starts at the same place: the dotted lines are the thresholds that "
                    "decide the predictions, the red x's every wrong prediction beyond the range"}


def _explanation(ctx, name):
    """The measured explanation of one network: sentences, the deciding units, the rates, the figures."""
    step = f"explain_{name}"
    if step not in ctx.steps:
        return []
    r = _explained(ctx, step)
    if isinstance(r, tuple):  # a note: nothing is drawn or tabled from a record that does not describe its network
        return [r]
    source = ctx.source(step)
    a = r["analysis"]
    blocks = [("heading", EXPLAIN_TITLES.get(name, f"How the network solves {a['lang']}")),
              ("list", r["sentences"], f"Every number above is a measurement of this network. {source}")]
    blocks.append(("table", ["prediction", "deciding unit", "threshold", "separates", "network right"],
                   [[f"{d['then']} after the last {d['phase']}", d["unit"], f"{d['direction']} {d['threshold']:.2f}",
                     f"{d['separates']:.0%}", f"{d['network_right']:.0%}"] for d in a["decisions"]],
                   f"The unit whose value decides each deterministic prediction on strings with n = 1..{a['length']}. "
                   f"{source}"))
    for row in a.get("runs", []):
        counter = row["unit"] + ("" if row.get("with") is None else f" with {row['with']}")
        blocks.append(("table", ["n", f"{row['phase']}'s needed", "the network's run", f"predicted from {counter}"],
                       [[str(r["n"]), str(r["needed"]), "never" if r["network"] is None else str(r["network"]),
                         "never" if r["predicted"] is None else str(r["predicted"])] for r in row["runs"]],
                       f"The {row['phase']} run for each n: the {row['phase']}'s the network reads before it predicts "
                       f"another symbol (measured by running it on the true string), and the run predicted from "
                       f"{counter} alone, moved on by the {row['phase']} map until it crosses its threshold "
                       f"({row['same']} equal, {row['near']} within one). {source}"))
    blocks.append(("table", ["unit", "phase", "rate per symbol", "r^2", "spread", "verdict"],
                   [[row["unit"], row["phase"], f"{row['rate']:+.3f}", f"{row['r2']:.2f}", f"{row['spread']:.3f}",
                     row["verdict"]] for row in a["rates"]],
                   "Each unit's change per symbol within each phase: a straight line over the symbols of the phase "
                   "(one slope, an intercept per string); a unit counts when r^2 >= 0.9 and |rate| >= 0.05. "
                   f"{source}"))
    for suffix, caption in EXPLAIN_FIGURES.items():
        for path in ctx.figures(ctx.record(step), suffix):
            blocks.append(("figure", path, f"{caption}. {source}"))
    for view in views(a):
        blocks.append(("viewer", f"{name}_{view['title'].replace(' ', '_')}", view,
                       f"The {view['title']} of the {a['model'].upper()} in 3-D, one string of each n = 1.."
                       f"{a['length']} (the record's trajectories), each state coloured and named by the "
                       f"language's state: A's red, B's green, C's blue, lighter as the phase goes on. {source}"))
    return blocks


def _explained(ctx, step):
    """The results of an explanation step's record, or a note block saying why there are none (no record, or
    one that does not describe its network)."""
    record = ctx.record(step)
    if record is None:
        return ctx.problem(step)
    problem = explanation_problem(ctx.folder, ctx.steps[step].record, record)
    return ("note", f"The explanation is not shown: {problem}.") if problem else record["results"]


def right_up_to(analysis):
    """The largest n up to which every string the analysis read was wholly right (0 if n = 1 was not)."""
    top = 0
    for row in sorted(analysis["beyond"], key=lambda row: row["n"]):
        if row["error"] is not None:
            break
        top = row["n"]
    return top


def _run_cells(analysis, phase, n):
    """The network's own run of ``phase``'s symbols for this n, as a table cell."""
    row = next((row for row in analysis["runs"] if row["phase"] == phase), None)
    run = None if row is None else next((r for r in row["runs"] if r["n"] == n), None)
    return "" if run is None else "never" if run["network"] is None else str(run["network"])


def _beyond_range(ctx):
    """The course's LSTM and the counting recipe's, side by side on strings up to 4 x the training n."""
    default, recipe = "explain_anb2nc3n_lstm3", "explain_anb2nc3n_lstm3_count"
    if recipe not in ctx.steps or default not in ctx.steps:
        return []
    blocks = [("heading", "Beyond the training range: the course's LSTM and the counting recipe's")]
    results = [_explained(ctx, step) for step in (default, recipe)]
    problems = [r for r in results if isinstance(r, tuple)]
    if problems:
        return blocks + problems
    a, b = (r["analysis"] for r in results)
    top = min(top_n(a), top_n(b))
    blocks.append(("text", f"Both LSTMs have {a['hid']} units and saw only strings with n = 1..{a['length']}: the "
                           "first was trained the course's way (above), the second with the counting recipe "
                           "(integrator gate biases, a loss on the certain symbols and on how far the phase ends move "
                           "with n, clipped Adam with a decaying rate, and the candidate whose phase ends drift "
                           "least over the training range; "
                           "docs/results.md). Each was then run on one string of every n up to "
                           f"{top}. The course's LSTM gets every string right up to n = {right_up_to(a)}, the "
                           f"recipe's up to n = {right_up_to(b)}."))
    rows = []
    for n in range(1, top + 1):
        cells = [str(n)]
        for phase, mult in zip(a["symbols"][1:], a["mult"]):
            cells += [str(mult * n), _run_cells(a, phase, n), _run_cells(b, phase, n)]
        shares = [next(r["right"] for r in x["beyond"] if r["n"] == n) for x in (a, b)]
        rows.append(cells + [f"{share:.0%}" for share in shares])
    header = ["n"]
    for phase in a["symbols"][1:]:
        header += [f"{phase}'s needed", f"{phase} run, course", f"{phase} run, recipe"]
    blocks.append(("table", header + ["right, course", "right, recipe"], rows,
                   "Each phase's run as the network reads the true string (the symbols it reads before it predicts "
                   "another), against the run needed, and the share of the certain symbols it predicts right, per n. "
                   f"From {ctx.source(default)} and {ctx.source(recipe)}."))
    blocks.append(("list", results[1]["sentences"], "How the recipe's LSTM counts, measured as the explanation above "
                                                     f"measures the course's. {ctx.source(recipe)}"))
    for step, who in ((default, "The course's LSTM"), (recipe, "The recipe's LSTM")):
        for path in ctx.figures(ctx.record(step), "_explain.jpg"):
            blocks.append(("figure", path, f"{who}: each unit along one string of each n = 1..{top}, one column per "
                                           "phase; dashed: beyond the training range, red x: every wrong prediction, "
                                           f"dotted: the deciding thresholds. {ctx.source(step)}"))
    return blocks


def _legend(ctx):
    """What the language-state names mean, for the languages of the report's Part 3 runs."""
    from lab.recurrent.languages import make_language
    from lab.recurrent.states import LanguageStates

    lines = [f"{lang}: {LanguageStates(make_language(lang)).legend()[len('names: '):]}"
             for lang, name in (("anb2n", "anb2n_srn2"), ("anb2nc3n", "anb2nc3n_lstm3"))
             if f"train_{name}" in ctx.steps]
    return [("list", lines, "The names of the language's states, as the figures and tables use them.")] if lines else []


def part3(ctx):
    """The SRN on a^n b^2n and the LSTM on a^n b^2n c^3n: training, hidden units, machine, how it counts."""
    blocks = _legend(ctx)
    for name, label in (("anb2n_srn2", "SRN with 2 hidden units on a^n b^2n"),
                        ("anb2nc3n_lstm3", "LSTM with 3 hidden units on a^n b^2n c^3n")):
        if f"train_{name}" not in ctx.steps:
            continue
        blocks.append(("heading", label))
        blocks += _training(ctx, name, label)
        blocks += _hidden(ctx, f"plot_{name}", "Hidden units")
        blocks += _hidden(ctx, f"context_{name}", "Cell (context) units")
        if ctx.record(f"train_{name}") is not None:
            blocks += _machine(ctx, name)
            blocks += _explanation(ctx, name)
    return blocks + _beyond_range(ctx)


PARTS = {1: part1, 2: part2, 3: part3}
