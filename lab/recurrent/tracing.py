"""Tracing a Part 3 network over sequences: its states at every input, and the course's step-by-step printout.

``collect_states`` runs a model over samples and returns flat arrays over
every input position (hidden units, output probabilities, for an LSTM its
cell states and gates, and the language's own state); ``gather`` adds what
the machine extraction needs; ``format_steps`` is the printout that
seq_train.py and seq_plot.py show for one sequence.
"""
import numpy as np
import torch

from lab.recurrent.languages import collate


def format_steps(lang, seq, hidden, out, label="hidden"):
    """The course's step-by-step printout: ``symbol= ...``, then per input its hidden units and probabilities."""
    lines = ["symbol= " + lang.decode(seq)]
    head = " ".join(f"{s:>5}" for s in lang.symbols)
    lines.append(f"in  {label:<{7 * hidden.shape[-1] - 1}}   probabilities {head}")
    for t in range(hidden.shape[0]):
        hid = " ".join(f"{v:+.3f}" for v in hidden[t].tolist())
        prob = " ".join(f"{v:5.3f}" for v in out[t].tolist())
        lines.append(f"{lang.symbols[int(seq[t])]:<3} {hid}   {' ' * 14}{prob}")
    return "\n".join(lines)


def show_sequence(model, lang, sample):
    """Run a model over one sample and format the printout."""
    x, _, _, _ = collate([sample], lang.num_symbols)
    with torch.no_grad():
        hidden, logits = model(x)
    return format_steps(lang, sample[0], hidden[0], logits[0].softmax(-1))


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


def gather(model, lang, samples):
    """The network's trajectories over samples (see collect_states), plus what extraction needs.

    Adds ``features``: the recurrent state after each input (an LSTM's
    hidden and cell units side by side), ``start``: the state before the
    first input, and ``first``: true at each sequence's first input.
    """
    data = collect_states(model, lang, samples)
    if "context" in data:
        data["features"] = np.hstack([data["hidden"], data["context"]])
        data["start"] = np.zeros(data["features"].shape[1])
    else:
        data["features"], data["start"] = data["hidden"], data["initial"]
    data["first"] = data["step"] == 0
    return data
