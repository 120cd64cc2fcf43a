"""Show how a trained SRN or LSTM solves its language: weights, activations, hidden-space plots.

    python3 seq_plot.py --lang anb2n --epoch 100
    python3 seq_plot.py --lang anb2nc3n --model lstm --epoch 50 [--context]

Loads ``<out_path>/<lang>_<model><hid>_<epoch>.pth`` (the latest one when
--epoch is left out, or --checkpoint PATH) with torch.load(weights_only=True),
prints the weights, then the hidden activations and output probabilities
for --num_plot fresh sequences, and saves for each pair j < k of units a
scatter of the states visited, coloured by the language's state (jet), the
SRN's initial state marked x: ``plot/<lang>_<model><hid>_<j><k>.jpg``. With
3 or more units it also saves three views of the first three units in 3-D
(``..._3d_front.jpg``, ``_3d_side.jpg``, ``_3d_top.jpg``). --context plots an
LSTM's cell states instead (``..._context_<j><k>.jpg``). --show opens the
interactive window when there is a display; without one it only says so.
"""
import argparse
import glob
import os
import re
import sys

import numpy as np
import torch

from runtime import UserError, positive, pyplot, run_main, save_figure
from seq_models import load_checkpoint
from seq_train import (LANGS, checkpoint_path, collate, format_steps, lang_tag, make_language,
                       settings_for)

VIEWS = {"front": (20, -60), "side": (20, 30), "top": (85, -90)}  # (elevation, azimuth)


def list_checkpoints(out_path):
    """The checkpoint files in a folder, sorted by name and then by k."""
    def key(path):
        m = re.match(r"(.*)_(\d+)\.pth$", os.path.basename(path))
        return (m.group(1), int(m.group(2))) if m else (os.path.basename(path), -1)
    return sorted(glob.glob(os.path.join(out_path, "*.pth")), key=key)


def _existing(out_path):
    """A sentence listing the checkpoints that exist, for error messages."""
    found = [os.path.basename(p) for p in list_checkpoints(out_path)]
    if not found:
        return f"there are no checkpoints in {out_path}/ (train one with seq_train.py)"
    return f"checkpoints in {out_path}/: " + ", ".join(found)


def find_checkpoint(out_path, tag, model, hid, epoch=None):
    """The path of checkpoint k=epoch, or of the latest one for this language, model and size."""
    if epoch is not None:
        path = checkpoint_path(out_path, tag, model, hid, epoch)
        if not os.path.isfile(path):
            raise UserError(f"no checkpoint {path}; {_existing(out_path)}")
        return path
    pattern = re.compile(rf"{re.escape(tag)}_{model}{hid}_(\d+)\.pth$")
    matches = [(int(m.group(1)), p) for p in list_checkpoints(out_path)
               if (m := pattern.match(os.path.basename(p)))]
    if not matches:
        raise UserError(f"no checkpoint {checkpoint_path(out_path, tag, model, hid, '<k>')}; {_existing(out_path)}")
    return max(matches)[1]


def load_model(path, out_path=None):
    """Load a checkpoint for analysis; any problem becomes a UserError naming the checkpoints there are."""
    where = out_path or os.path.dirname(path) or "."
    try:
        return load_checkpoint(path)
    except FileNotFoundError:
        raise UserError(f"no checkpoint {path}; {_existing(where)}") from None
    except ValueError as err:
        raise UserError(f"{err}; {_existing(where)}") from None


def collect_states(model, lang, samples):
    """Run a model over samples; return flat numpy arrays over every input position.

    Keys: everything ``model.trace`` gives per step (hidden, output as
    probabilities, and for an LSTM context and the four gates), plus symbol
    (the input), target (the next symbol), prob (true probabilities), state
    (the language's state), sequence and step (where each row came from), and
    initial (the state before the first input).
    """
    x, target, prob, mask = collate(samples, lang.num_symbols)
    with torch.no_grad():
        trace = model.trace(x)
    m = mask.numpy()
    rows = {k: v[mask].numpy() for k, v in trace.items() if k not in ("initial", "output")}
    rows["output"] = trace["output"].softmax(-1)[mask].numpy()
    states = np.zeros(m.shape, dtype=np.int64)
    symbols = np.zeros(m.shape, dtype=np.int64)
    for b, (seq, _, state) in enumerate(samples):
        states[b, : len(state)], symbols[b, : len(state)] = state, seq[:-1]
    rows.update(symbol=symbols[m], target=target[mask].numpy(), prob=prob[mask].numpy(), state=states[m],
                sequence=np.nonzero(m)[0], step=np.nonzero(m)[1], initial=trace["initial"].numpy())
    return rows


def pair_figure(plt, points, states, j, k, initial=None, title="", unit="hidden"):
    """A new figure: units j and k of every point, coloured by state; the initial state as a black x."""
    fig, ax = plt.subplots(figsize=(6, 5))
    sc = ax.scatter(points[:, j], points[:, k], c=states, cmap="jet", s=12)
    if initial is not None:
        ax.plot(initial[j], initial[k], "kx", markersize=12, markeredgewidth=2, label="initial state")
        ax.legend(loc="best")
    if unit == "hidden":
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(f"{unit} unit {j}")
    ax.set_ylabel(f"{unit} unit {k}")
    ax.set_title(title)
    fig.colorbar(sc, ax=ax, label="state")
    return fig


def cube_figure(plt, points, states, view, initial=None, title="", unit="hidden"):
    """A new figure: the first three units in 3-D from one of VIEWS."""
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    sc = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=states, cmap="jet", s=12)
    if initial is not None:
        ax.scatter([initial[0]], [initial[1]], [initial[2]], c="k", marker="x", s=80)
    ax.view_init(*VIEWS[view])
    ax.set_xlabel(f"{unit} 0")
    ax.set_ylabel(f"{unit} 1")
    ax.set_zlabel(f"{unit} 2")
    ax.set_title(f"{title} ({view})")
    fig.colorbar(sc, ax=ax, label="state", shrink=0.7, pad=0.12)
    return fig


def save_plots(plt, data, prefix, title, unit="hidden", initial=None):
    """Save the pair plots and, for 3+ units, the three 3-D views; returns the paths written."""
    points, states = data
    written = []
    hid = points.shape[1]
    for j in range(hid):
        for k in range(j + 1, hid):
            fig = pair_figure(plt, points, states, j, k, initial, title, unit)
            written.append(save_figure(fig, f"{prefix}_{j}{k}.jpg", dpi=100))
    if hid >= 3:
        for view in VIEWS:
            fig = cube_figure(plt, points, states, view, initial, title, unit)
            written.append(save_figure(fig, f"{prefix}_3d_{view}.jpg", dpi=100))
    return written


def add_checkpoint_flags(parser, images):
    """The flags that pick a checkpoint and where its images go, shared with seq_fsm.py.

    ``images`` says what goes into --plot_path, for its help text.
    """
    p = parser
    p.add_argument("--lang", choices=LANGS, default="anb2n",
                   help="language the network was trained on (default: %(default)s)")
    p.add_argument("--embed", action="store_true", help="embedded Reber grammar (with --lang reber)")
    p.add_argument("--model", choices=("srn", "lstm"), default="srn", help="network type (default: %(default)s)")
    p.add_argument("--hid", type=positive(int), default=None,
                   help="hidden units (default: seq_train.py's for the language and model)")
    p.add_argument("--epoch", type=positive(int), default=None,
                   help="which checkpoint, in thousands of sequences (default: the latest there is)")
    p.add_argument("--checkpoint", default=None,
                   help="a checkpoint file to load instead (its own settings apply; default: none)")
    p.add_argument("--out_path", default="net", help="folder of the checkpoints (default: %(default)s)")
    p.add_argument("--plot_path", "--plot-dir", dest="plot_path", default="plot",
                   help=f"folder for {images} (default: %(default)s)")
    p.add_argument("--length", type=int, default=None,
                   help="largest n (counting languages) or minimum length (reber) of the sequences "
                        "(default: the checkpoint's training one)")
    return p


def resolve_checkpoint(args):
    """Find and load the checkpoint the flags name: --checkpoint, or the one for --lang, --model, --hid, --epoch.

    A checkpoint found by name must hold what its name says. Returns
    (model, checkpoint dict, path); problems are UserErrors naming the
    checkpoints there are.
    """
    if args.embed and args.lang != "reber":
        raise UserError("--embed applies to --lang reber only")
    if args.checkpoint:
        model, ckpt = load_model(args.checkpoint)
        return model, ckpt, args.checkpoint
    tag = lang_tag(args.lang, args.embed)
    hid = args.hid or settings_for(args.lang, args.model, args.embed)["hid"]
    path = find_checkpoint(args.out_path, tag, args.model, hid, args.epoch)
    model, ckpt = load_model(path, args.out_path)
    config = ckpt["config"]
    found = (config.get("lang"), config.get("embed", False), config["model"], config["num_hid"])
    if found != (args.lang, args.embed, args.model, hid):
        raise UserError(f"{path} holds a {found[2]} with {found[3]} hidden units for "
                        f"{lang_tag(found[0], found[1])}, not what its name says; {_existing(args.out_path)}")
    return model, ckpt, path


def language_for(config, length, path):
    """The checkpoint's language (with --length if given), checked against the network's inputs."""
    length = config.get("length") if length is None else length
    lang = make_language(config["lang"], config.get("embed", False), length)
    if lang.num_symbols != config["num_input"]:
        raise UserError(f"{path} expects {config['num_input']} symbols, {config['lang']} has {lang.num_symbols}")
    return lang


def build_parser():
    """The command-line flags (the course's names, plus --checkpoint, --embed, --context, --seed)."""
    p = add_checkpoint_flags(argparse.ArgumentParser(description=__doc__.split("\n")[0]), "the images")
    p.add_argument("--num_plot", type=positive(int), default=10,
                   help="fresh sequences to print and plot (default: %(default)s)")
    p.add_argument("--context", action="store_true", help="plot an LSTM's cell states instead of its hidden units")
    p.add_argument("--show", action="store_true", help="also open the interactive 3-D window (needs a display)")
    p.add_argument("--seed", type=int, default=0, help="seed for the fresh sequences (default: %(default)s)")
    return p


def main(argv=None):
    """Load the checkpoint, print weights and activations, save the plots."""
    args = build_parser().parse_args(argv)
    model, ckpt, path = resolve_checkpoint(args)
    config = ckpt["config"]
    if args.context and config["model"] != "lstm":
        raise UserError("--context plots an LSTM's cell states; this checkpoint is an SRN")
    lang = language_for(config, args.length, path)
    print(f"loaded {path} ({config['model']}, {config['num_hid']} hidden units, "
          f"{ckpt.get('seen', '?')} sequences seen)")
    for name, value in model.state_dict().items():
        print(f"{name} = {np.array2string(value.numpy(), precision=3, suppress_small=True)}")

    rng = np.random.default_rng(args.seed)
    samples = [lang.get_sequence(rng) for _ in range(args.num_plot)]
    data = collect_states(model, lang, samples)
    unit = "context" if args.context else "hidden"
    points = data[unit]
    for b, sample in enumerate(samples):
        rows = data["sequence"] == b
        print(format_steps(lang, sample[0], torch.from_numpy(points[rows]), torch.from_numpy(data["output"][rows]),
                           label=unit))

    plt = pyplot(args.show)
    tag = lang_tag(config["lang"], config.get("embed", False))
    name = f"{tag}_{config['model']}{config['num_hid']}" + ("_context" if args.context else "")
    initial = data["initial"] if config["model"] == "srn" else None
    title = f"{tag} {config['model']}{config['num_hid']} {unit} units"
    written = save_plots(plt, (points, data["state"]), os.path.join(args.plot_path, name), title, unit, initial)
    for item in written:
        print(f"wrote {item}")
    if not written:
        print(f"no plots: a network with {points.shape[1]} {unit} unit has no pair of units to plot")
    if args.show:
        if plt.get_backend().lower() == "agg":
            print("--show: no display here, so no window; the plots are in the files above", file=sys.stderr)
        else:
            if points.shape[1] >= 3:
                cube_figure(plt, points, data["state"], "front", initial, title, unit)
            else:
                pair_figure(plt, points, data["state"], 0, min(1, points.shape[1] - 1), initial, title, unit)
            plt.show()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
