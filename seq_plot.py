"""Show how a trained SRN or LSTM solves its language: weights, activations, hidden-space plots.

    python3 seq_plot.py --lang anb2n --epoch 100
    python3 seq_plot.py --lang anb2nc3n --model lstm --epoch 50 [--context]

Loads ``<out_path>/<lang>_<model><hid>_<epoch>.pth`` (the latest one when
--epoch is left out, or --checkpoint PATH) with torch.load(weights_only=True),
prints the weights by name (SRN: H0, W, U, the biases, V, c; LSTM: the rows
of each gate i, f, g, o), then the hidden activations and output
probabilities for --num_plot fresh sequences, and saves for each pair j < k
of units a scatter of the states visited, coloured by the language's state
(jet; the colour bar names the states as seq_fsm.py does: A3, b5, n4, ...),
the SRN's initial state marked x: ``plot/<lang>_<model><hid>_<j><k>.jpg``. With
3 or more units it also saves three views of the first three units in 3-D
(``..._3d_front.jpg``, ``_3d_side.jpg``, ``_3d_top.jpg``). --context plots an
LSTM's cell states instead (``..._context_<j><k>.jpg``). --show opens the
interactive window when there is a display; without one it only says so.
A record of the run goes next to the images (``<name>.json``, with
``_context`` for --context).
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import os
import sys

import numpy as np
import torch

from lab.recurrent.states import point_names
from lab.common.records import Record
from lab.common.errors import UserError, run_main
from lab.common.options import add_flags
from lab.common.figures import pyplot
from lab.recurrent.series import language_for, resolve_checkpoint, series_name
from lab.recurrent.plots import cube_figure, pair_figure, save_plots
from lab.recurrent.settings import PlotSettings
from lab.recurrent.tracing import collect_states, format_steps


def build_parser():
    """The command-line flags (the course's names, plus --checkpoint, --embed, --context, --seed)."""
    return add_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]), PlotSettings)


def load(settings):
    """The checkpoint the settings name, its config and language; prints what was loaded."""
    model, ckpt, path = resolve_checkpoint(settings)
    config = ckpt["config"]
    if settings.context and config["model"] != "lstm":
        raise UserError("--context plots an LSTM's cell states; this checkpoint is an SRN")
    lang = language_for(config, settings.length, path)
    print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units, "
          f"{ckpt.get('seen', '?')} sequences seen)")
    return model, ckpt, path, lang


GATES = (("i", "input gate"), ("f", "forget gate"), ("g", "cell input"), ("o", "output gate"))  # torch's order


def weight_table(title, matrix, rows, columns):
    """A titled table of weights, a labelled line per row."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    width = max(map(len, rows))
    lines = [title, " " * (width + 2) + "".join(f"{c:>9}" for c in columns)]
    lines += [f"  {r:<{width}}" + "".join(f"{v:>+9.3f}" for v in row) for r, row in zip(rows, matrix)]
    return "\n".join(lines)


def weight_text(model, symbols):
    """The network's weights by name: the SRN's H0, W, U, biases, V, c; the LSTM's by gate (i, f, g, o)."""
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    hid = model.num_hid
    inputs, outputs = [f"in {c}" for c in symbols], [f"out {c}" for c in symbols]
    units = [f"h{u}" for u in range(hid)]
    if "H0" in weights:
        rows = [f"hidden {u}" for u in range(hid)]
        start = np.array2string(weights["H0"], precision=3, suppress_small=True)
        lines = ["SRN weights: h_t = tanh(W x_t + b_W + U h_(t-1) + b_U), h_0 = tanh(H0); "
                 "output probabilities softmax(V h_t + c)",
                 f"H0 = {start}   (the initial state h_0 = tanh(H0) = "
                 f"{np.array2string(np.tanh(weights['H0']), precision=3, suppress_small=True)})",
                 weight_table("W = rnn.weight_ih_l0, input -> hidden:", weights["rnn.weight_ih_l0"], rows, inputs),
                 weight_table("U = rnn.weight_hh_l0, hidden -> hidden (row: to, column: from):",
                              weights["rnn.weight_hh_l0"], rows, units),
                 weight_table("hidden biases b_W = rnn.bias_ih_l0 and b_U = rnn.bias_hh_l0:",
                              np.stack([weights["rnn.bias_ih_l0"], weights["rnn.bias_hh_l0"]], 1), rows,
                              ["b_W", "b_U"])]
    else:
        rows = [f"{g} unit {u}" for g, _ in GATES for u in range(hid)]
        lines = ["LSTM weights, in torch's gate order i, f, g, o with one row per unit of each (i: input gate, "
                 "f: forget gate, g: cell input, o: output gate);",
                 "c_t = f * c_(t-1) + i * g, h_t = o * tanh(c_t); output probabilities softmax(V h_t + c)",
                 weight_table("lstm.weight_ih_l0, input -> gates:", weights["lstm.weight_ih_l0"], rows, inputs),
                 weight_table("lstm.weight_hh_l0, hidden -> gates (column: from):", weights["lstm.weight_hh_l0"],
                              rows, units),
                 weight_table("gate biases lstm.bias_ih_l0 and lstm.bias_hh_l0 (they are added):",
                              np.stack([weights["lstm.bias_ih_l0"], weights["lstm.bias_hh_l0"],
                                        weights["lstm.bias_ih_l0"] + weights["lstm.bias_hh_l0"]], 1),
                              rows, ["bias_ih", "bias_hh", "sum"])]
    lines.append(weight_table("V = out.weight, hidden -> output:", weights["out.weight"], outputs, units))
    lines.append(weight_table("output biases c = out.bias:", weights["out.bias"][:, None], outputs, ["c"]))
    return "\n".join(lines)


def print_activations(model, lang, settings):
    """Print the weights, then each fresh sequence step by step; returns the traced data."""
    print(weight_text(model, lang.symbols))
    rng = np.random.default_rng(settings.seed)
    samples = [lang.get_sequence(rng) for _ in range(settings.num_plot)]
    data = collect_states(model, lang, samples)
    unit = "context" if settings.context else "hidden"
    for b, sample in enumerate(samples):
        rows = data["sequence"] == b
        print(format_steps(lang, sample[0], torch.from_numpy(data[unit][rows]),
                           torch.from_numpy(data["output"][rows]), label=unit))
    return data


def show(plt, points, states, initial, title, unit, names=None):
    """--show: the interactive window where there is a display; otherwise say so."""
    if plt.get_backend().lower() == "agg":
        print("--show: no display here, so no window; the plots are in the files above", file=sys.stderr)
        return
    if points.shape[1] >= 3:
        cube_figure(plt, points, states, "front", initial, title, unit, names)
    else:
        pair_figure(plt, points, states, 0, min(1, points.shape[1] - 1), initial, title, unit, names)
    plt.show()


def main(argv=None):
    """Load the checkpoint, print weights and activations, save the plots and the record."""
    settings = PlotSettings(**vars(build_parser().parse_args(argv)))
    model, ckpt, path, lang = load(settings)
    config = ckpt["config"]
    record = Record("seq_plot.py", argv, settings.as_config())
    data = print_activations(model, lang, settings)
    unit = "context" if settings.context else "hidden"
    points = data[unit]
    plt = pyplot(settings.show)
    name = series_name(lang.tag, config["model"], config["num_hid"]) + ("_context" if settings.context else "")
    initial = data["initial"] if config["model"] == "srn" else None
    title = f"{lang.tag} {config['model']}{config['num_hid']} {unit} units"
    states, names = point_names(lang, data["symbol"], data["step"] == 0, data["state"])
    written = save_plots(plt, (points, states), os.path.join(settings.plot_path, name), title, unit, initial, names)
    for item in written:
        print(f"wrote {item}")
    if not written:
        print(f"no plots: a network with {points.shape[1]} {unit} unit has no pair of units to plot")
    record.results.update(checkpoint=path, sequences_seen=ckpt.get("seen"), units=unit,
                          weights={k: v.numpy() for k, v in model.state_dict().items()}, state_names=names)
    record.wrote(*written)
    record.write(os.path.join(settings.plot_path, name + ".json"))
    if settings.show:
        show(plt, points, states, initial, title, unit, names)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
