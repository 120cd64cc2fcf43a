"""The counting recipe: train a small SRN or LSTM so that its count carries on beyond the training range.

The course's defaults (lab/recurrent/settings.py, lab/recurrent/training.py)
learn the training range n = 1..length perfectly but mostly stop counting
just past it. This recipe changes only how a network of the same size is
trained, never what it is shown: every training and validation string has
n <= length.

- LSTM gate biases start so that the cells are integrators: forget gate
  FORGET_BIAS (sigmoid 0.993: the cell keeps its value), input gate
  INPUT_BIAS (sigmoid 0.5) (torch's nn.LSTM stacks
  its gates as input, forget, cell input, output in bias_ih / bias_hh; the
  value is put in bias_ih, bias_hh's rows are zeroed).
- The loss is cross-entropy on the deterministic positions only (every
  input from a string's first B on: ``certain_given_n``), so the A phase's
  guess "B is certain after length A's" is never taught; with label
  smoothing SMOOTHING, so that the loss keeps asking for the same margin
  at every position rather than ever larger ones.
- From SPREAD_FROM of the training on, the LSTM's loss also asks every
  candidate to end each phase of the in-range ``sweep`` in the same state
  whatever n (``spread_loss``, weight SPREAD_WEIGHT): what the
  cross-entropy leaves alone once its margin is met, a count whose rates
  are off by a little.
- The SRN's loss also holds its hidden state small (the mean of h^2, weight
  HIDDEN_WEIGHT): that keeps the count in the near-linear part of tanh,
  where every A moves the counting unit by about the same step, instead of
  the saturated part, where the default's fifth A moves it by half as much.
- Candidates train side by side (seq_models.Population), with Adam, a
  learning rate that decays by a cosine to LR_FLOOR of its start, and each
  gradient entry clipped to CLIP (entry-wise, so candidates stay independent).
- The network delivered is the candidate that does best on in-range
  validation strings (``validation_score``): all deterministic symbols of
  every string with n = 1..length right first, then the smallest drift: a
  counter that keeps its rate ends each phase in the same hidden state
  whatever n, so the spread of those end states over n = 1..length (in
  steps) measures how far its rates are off.

``recipe_settings`` gives the run's settings, ``train_recipe`` trains and
returns a ``RecipeResult``; ``run_recipe`` is ``seq_train.py --recipe
count``: it trains, writes the chosen network as the series' checkpoint and
gives the run record's results.
"""
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from lab.recurrent.languages import PREDICTED, collate
from lab.recurrent.series import checkpoint_path
from lab.recurrent.training import TARGET_LOSS, VERDICT_SEQUENCES, evaluate, learned, verdict_lines
from seq_models import Population, save_checkpoint

GATES = ("input", "forget", "cell", "output")  # nn.LSTM's order of the four gates in its stacked weights
FORGET_BIAS = 5.0  # chosen by measurement over +1 (and input -1) and +3, docs/results.md
INPUT_BIAS = 0.0
CLIP = 1.0  # largest size of one gradient entry
SMOOTHING = 0.1  # label smoothing of the cross-entropy: the network aims at the same margin at every position
LR_FLOOR = 0.05  # the learning rate's last value, as a share of its first
# Per model: weight of the phase-end spread (``spread_loss``) in the loss, against the cross-entropy's 1 (measured
# for the LSTM; the SRN keeps the loss it was measured with).
SPREAD_WEIGHT = {"lstm": 3.0, "srn": 0.0}
SPREAD_FROM = 0.5  # share of the training done before the spread joins the loss
# Per model: weight of the mean squared hidden state in the loss, against the cross-entropy's 1 (measured for the SRN:
# 1 and 2 counted to n = 5, 4 to n = 6 on most seeds, 5 lost the training range on some; docs/results.md).
HIDDEN_WEIGHT = {"lstm": 0.0, "srn": 4.0}
VALIDATION_STRINGS = 5  # strings per validation sequence (as many as a training sequence)
# Per model: thousands of sequences, sequences per update, learning rate, candidates (chosen by measurement,
# docs/results.md).
RECIPES = {
    "lstm": dict(epoch=30, batch=10, lr=0.01, candidates=32),
    "srn": dict(epoch=150, batch=10, lr=0.003, candidates=16),
}


def recipe_settings(settings):
    """The settings ``settings`` (a TrainSettings) become under the recipe: its epoch, batch, lr, candidates."""
    values = RECIPES[settings.model]
    return replace(settings, optim="adam", mom=0.0, select=values["epoch"], **values)


def gate_rows(gate, hid, size=1):
    """The rows of nn.LSTM's stacked weights and biases that belong to ``gate`` (a name in GATES), for a
    layer of size * hid units."""
    total = hid * size
    start = GATES.index(gate) * total
    return slice(start, start + total)


def init_integrators(lstm, hid, size=1):
    """Set an nn.LSTM's gate biases: forget FORGET_BIAS, input INPUT_BIAS (in bias_ih; bias_hh's rows zeroed)."""
    with torch.no_grad():
        for gate, value in (("forget", FORGET_BIAS), ("input", INPUT_BIAS)):
            rows = gate_rows(gate, hid, size)
            lstm.bias_ih_l0[rows] = value
            lstm.bias_hh_l0[rows] = 0.0


def loss_mask(inputs, exists):
    """True at the positions the recipe learns from: where the input is not an A (from a string's first B on)
    and the position exists. ``inputs`` are symbol indices (A = 0)."""
    return (inputs != 0) & exists


def build_population(settings, lang):
    """The candidates, initialised as the recipe says (SRN weights from N(0, init^2); LSTM gate biases)."""
    model = Population(settings.model, lang.num_symbols, settings.hid, lang.num_symbols, settings.candidates)
    if settings.model == "srn":
        model.init_weights(settings.init)
    else:
        init_integrators(model.rnn, settings.hid, settings.candidates)
    return model


def learning_rate(step, steps, lr):
    """The cosine decay from ``lr`` at step 0 to LR_FLOOR * lr at the last step."""
    progress = step / max(steps - 1, 1)
    return lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))


def spread_loss(hidden, ends, size):
    """The phase-end spread of every candidate, summed: per phase, the variance of the hidden states at the
    phase's last symbol (over the strings) over the mean squared size of the last step there (held constant,
    so that the loss does not grow the steps instead). ``hidden`` is (time, size * units) of one sequence."""
    states = hidden.view(hidden.shape[0], size, -1)
    total = 0.0
    for last, before in ends.values():
        final = states[last]  # (strings, candidates, units)
        variance = (final - final.mean(0)).pow(2).sum(-1).mean(0)
        step = (final - states[before]).pow(2).sum(-1).mean(0).detach().clamp_min(1e-4)
        total = total + (variance / step).sum()
    return total


def hidden_size(hidden, exists, size):
    """Per candidate the mean of h^2 over its hidden units and the positions that exist, summed over the
    candidates. ``hidden`` is (batch, time, size * units), ``exists`` (batch, time)."""
    per_unit = hidden[exists].square().mean(0)
    return per_unit.sum() / (per_unit.numel() // size)


def update(model, optimizer, lang, samples, size, spread=None, hidden_weight=0.0):
    """One weight update of every candidate on ``samples``, the loss masked to the deterministic positions;
    ``spread``: None, or (the sweep's sample, its ``phase_ends``, weight) to add the weighted ``spread_loss`` (the
    sweep runs in the same batch, outside the cross-entropy); ``hidden_weight`` times ``hidden_size`` on the
    samples is added too. Returns the cross-entropy alone."""
    extra = [] if spread is None else [spread[0]]
    x, target, _, exists = collate(samples + extra, lang.num_symbols)
    real = exists.clone()
    real[len(samples):] = False  # the sweep's row, if there is one, is not a training sample
    mask = loss_mask(x.argmax(-1), real)
    hidden, logits = model(x)  # logits: (batch, time, candidates, symbols)
    picked = logits[mask]
    entropy = F.cross_entropy(picked.reshape(-1, lang.num_symbols), target[mask].repeat_interleave(size),
                              label_smoothing=SMOOTHING) * size
    loss = entropy
    if spread is not None:
        _, ends, weight = spread
        loss = loss + weight * spread_loss(hidden[-1], ends, size)
    if hidden_weight:
        loss = loss + hidden_weight * hidden_size(hidden, real, size)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), CLIP)
    optimizer.step()
    return entropy.item() / size


def sweep(lang):
    """The n's of the validation sequence whose phase ends are compared: every n = 1..length up, then down
    (then one more string, so that the last string's last symbol is an input too)."""
    top = lang.length
    return list(range(1, top + 1)) + list(range(top, 0, -1))


def validation_samples(lang):
    """The in-range validation sequences: VALIDATION_STRINGS strings of one n, for every n = 1..length, and
    last the ``sweep``."""
    samples = [lang.sequence_for([n] * VALIDATION_STRINGS) for n in range(1, lang.length + 1)]
    samples.append(lang.sequence_for(sweep(lang) + [1]))
    return samples


def phase_ends(lang, ns):
    """For a sequence of strings with these n's: per later phase (B, C, ...), the input positions of its last
    symbol in each string, and of the symbol before it."""
    ends = {phase: ([], []) for phase in range(1, len(lang.mult) + 1)}
    start = 0
    for n in ns:
        at = start + n
        for phase, m in enumerate(lang.mult, start=1):
            at += m * n
            ends[phase][0].append(at - 1)
            ends[phase][1].append(at - 2)
        start += lang.string_length(n)
    return ends


def drift(hidden, ends):
    """How far a counter's end state moves with n, in steps: per phase, the largest distance between the
    hidden states at the phase's last symbol (over the strings), over the mean size of the last step there;
    the largest over the phases. ``hidden`` is (time, units) of one network."""
    worst = 0.0
    for last, before in ends.values():
        final = hidden[last]
        spread = torch.cdist(final, final).max()
        step = (hidden[last] - hidden[before]).norm(dim=-1).mean()
        worst = max(worst, float(spread / step.clamp_min(1e-6)))
    return worst


def validation_score(model, lang, samples):
    """Per candidate of the Population ``model``: (every deterministic symbol of the validation ``samples``
    right, minus its drift) -- higher is better. The drift is measured on the one sequence of every n up and
    down (the last of ``samples``): a counter that keeps its rate ends each phase in the same state, whatever n."""
    x, target, _, exists = collate(samples, lang.num_symbols)
    mask = loss_mask(x.argmax(-1), exists)
    with torch.no_grad():
        hidden, logits = model(x)
    prob = logits.softmax(-1)
    size, hid = prob.shape[2], hidden.shape[-1] // prob.shape[2]
    right = prob.gather(-1, target.unsqueeze(-1).unsqueeze(-1).expand(-1, -1, size, 1)).squeeze(-1)
    least = right[mask].min(0).values
    ends = phase_ends(lang, sweep(lang))
    return [(bool(least[c] > PREDICTED), -drift(hidden[-1, :, c * hid:(c + 1) * hid], ends)) for c in range(size)]


@dataclass(frozen=True)
class RecipeResult:
    """What a recipe run produced."""

    network: torch.nn.Module  # the chosen candidate, a plain SRN_model or LSTM_model
    chosen: int
    scores: list  # every candidate's validation_score
    losses: list  # the mean training loss (deterministic positions) per thousand sequences
    population: torch.nn.Module  # every candidate, as trained


def train_recipe(settings, lang, log=print):
    """Train ``settings`` (already through recipe_settings) on ``lang`` from the seed; returns a RecipeResult.

    Seeds torch with the settings' seed and draws the sequences from
    numpy's generator with that seed.
    """
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    model = build_population(settings, lang)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    steps = settings.epoch * 1000 // settings.batch
    samples = validation_samples(lang)
    weight = SPREAD_WEIGHT[settings.model]
    spread = (samples[-1], phase_ends(lang, sweep(lang)), weight) if weight else None
    losses, window = [], []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, settings.lr)
        batch = [lang.get_sequence(rng) for _ in range(settings.batch)]
        window.append(update(model, optimizer, lang, batch, settings.candidates,
                             spread if step >= SPREAD_FROM * steps else None, HIDDEN_WEIGHT[settings.model]))
        if (step + 1) * settings.batch % 1000 == 0:
            losses.append(float(np.mean(window)))
            window = []
            if len(losses) % 10 == 0:
                log(f"{len(losses)}k sequences: loss {losses[-1]:.4f}")
    scores = validation_score(model, lang, samples)
    chosen = max(range(len(scores)), key=lambda c: scores[c])
    log(f"chose candidate {chosen}: " + ", ".join(f"{c}: {ok} {score:.3f}" for c, (ok, score) in enumerate(scores)))
    return RecipeResult(network=model.candidate(chosen), chosen=chosen, scores=scores, losses=losses,
                        population=model)


def run_recipe(settings, lang, log=print):
    """``seq_train.py --recipe count``: train ``settings`` (already through recipe_settings) with the recipe, save
    the chosen network as <out_path>/<series>_<epoch>.pth, print the verdict on fresh sequences; returns the run
    record's results."""
    started = time.time()
    result = train_recipe(settings, lang, log)
    path = checkpoint_path(settings.out_path, lang.tag, settings.model, settings.hid, settings.epoch)
    save_checkpoint(path, result.network, settings.model_config(lang), seen=settings.epoch * 1000, recipe="count",
                    candidate=result.chosen, seed=settings.seed)
    rng = np.random.default_rng([settings.seed, 1])  # fresh sequences, not the training's
    verdict = evaluate(result.network, lang, [lang.get_sequence(rng) for _ in range(VERDICT_SEQUENCES)])
    for line in verdict_lines(verdict, TARGET_LOSS[lang.tag]):
        log(line)
    log(f"trained on {settings.epoch * 1000} sequences in {time.time() - started:.1f} s; last checkpoint: {path}")
    return dict(reports=[], target_loss=TARGET_LOSS[lang.tag], candidates=settings.candidates, chosen=result.chosen,
                chosen_at=None, candidate_losses=None, verdict=verdict, learned=learned(verdict, TARGET_LOSS[lang.tag]),
                sequences_seen=settings.epoch * 1000, last_checkpoint=path, resumed=False, recipe="count",
                recipe_losses=result.losses, validation=[[ok, score] for ok, score in result.scores])
