"""seq_explain.py's sentences checked against the network itself, run on the strings each sentence speaks of.

Two small networks are trained once for the module (the SRN of seed 2 and
the LSTM of seed 0, shortened runs of the course's defaults). Their
explanations are read as text; each claim is parsed out of the sentence and
tested by running the torch model (float64, its own modules, none of
lab/explain's code) on the strings the claim names: run lengths, every
wrong position, the deciding unit's value and side, the fixed point's
one-step shrinking, the slow point's speed and the values where a count is
lost.
"""
import re

import numpy as np
import pytest
import torch

import seq_train
from conftest import run_command
from lab.explain.analysis import explain
from lab.explain.sentences import explanation
from lab.recurrent.series import language_for, load_model

NETWORKS = {
    "srn": ["--lang", "anb2n", "--seed", "2", "--candidates", "1", "--epoch", "30"],
    "lstm": ["--lang", "anb2nc3n", "--model", "lstm", "--seed", "0", "--epoch", "30"],
}


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def explained(request, tmp_path_factory):
    """(model as float64, language, sentences) for one trained network."""
    folder = tmp_path_factory.mktemp(request.param)
    status, out, err = run_command(seq_train.main, NETWORKS[request.param] + [
        "--out_path", str(folder), "--plot_path", str(folder)])
    assert status == 0, err
    path = sorted(folder.glob("*.pth"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))[-1]
    model, ckpt = load_model(str(path))[:2]
    lang = language_for(ckpt["config"], None, str(path))
    sentences = explanation(explain(model, lang))
    return model.double().eval(), lang, sentences


def step_states(model, inputs):
    """Per input: the whole state (h, or h then c) and the predicted symbol, stepping the torch module."""
    states, predictions = [], []
    h = c = None
    with torch.no_grad():
        for a in inputs:
            x = torch.zeros(1, 1, model.out.out_features, dtype=torch.float64)
            x[0, 0, a] = 1.0
            if hasattr(model, "lstm"):
                out, (h, c) = model.lstm(x, None if h is None else (h, c))
                state = np.concatenate([h.view(-1).numpy(), c.view(-1).numpy()])
            else:
                out, h = model.rnn(x, h if h is not None else initial_hidden(model))
                state = h.view(-1).numpy()
            states.append(state)
            predictions.append(int(torch.argmax(model.out(out[0, -1]))))
    return np.array(states), predictions


def initial_hidden(model):
    """The SRN's starting hidden state as the model defines it."""
    with torch.no_grad():
        return model.initial_state().view(1, 1, -1)


def unit_index(model, label):
    """Index into the whole state of "hidden unit 1" or "cell unit 0"."""
    kind, _, k = label.split()
    return int(k) + (model.num_hid if kind == "cell" else 0)


def prefix(lang, n, phase):
    mult = [1] + list(lang.mult)
    return [q for q in range(phase) for _ in range(mult[q] * n)]


def own_run(model, lang, n, phase, cap=80):
    """B's (or C's) the torch network reads after the true prefix before it predicts another symbol."""
    base = prefix(lang, n, phase)
    for k in range(1, cap):
        _, predictions = step_states(model, base + [phase] * k)
        if predictions[-1] != phase:
            return k
    return None


def numbers(text):
    return [int(v) for v in re.findall(r"\d+", text)]


def test_run_lengths_are_the_networks_own(explained):
    model, lang, sentences = explained
    runs = [s for s in sentences if s.startswith("Run by the network")]
    assert len(runs) == len(lang.symbols) - 1
    for phase, sentence in enumerate(runs, start=1):
        m = re.search(r"lasts ([\d, never]+) for n = 1\.\.(\d+), where ([\d, ]+) are needed", sentence)
        own, top, needed = m.group(1).split(", "), int(m.group(2)), numbers(m.group(3))
        mult = ([1] + list(lang.mult))[phase]
        assert needed == [mult * n for n in range(1, top + 1)]
        truth = [own_run(model, lang, n, phase) for n in range(1, top + 1)]
        assert [None if v == "never" else int(v) for v in own] == truth
        p = re.search(r"needs ([\d, never]+) \w's until .*: (\d+) of (\d+) equal to the network's, (\d+) within one",
                      sentence)
        predicted = [None if v == "never" else int(v) for v in p.group(1).split(", ")]
        same = sum(a == b for a, b in zip(predicted, truth))
        near = sum(a is not None and b is not None and abs(a - b) <= 1 for a, b in zip(predicted, truth))
        assert (int(p.group(2)), int(p.group(3)), int(p.group(4))) == (same, top, near)
        assert bool(re.search(r"carr(y|ies) the count", sentence)) == (near == top)


def test_every_wrong_position_and_the_deciding_units_side(explained):
    model, lang, sentences = explained
    rules = {}
    for s in sentences:
        m = re.match(r"The network predicts the (\w) after the last (\w) when (\w+ unit \d) (falls below|rises above) "
                     r"(-?\d+\.\d+)", s)
        if m:
            rules[m.group(2)] = (m.group(3), m.group(4), float(m.group(5)))
    beyond = [s for s in sentences if re.match(r"n = \d+: ", s)]
    assert beyond, "the explanation speaks of n past the training range"
    for sentence in beyond:
        n = int(re.match(r"n = (\d+)", sentence).group(1))
        inputs = prefix(lang, n, len(lang.symbols)) + [0]
        states, predictions = step_states(model, inputs[:-1])
        targets = inputs[1:]
        wrong = [t for t in range(len(targets)) if inputs[t] != 0 and predictions[t] != targets[t]]
        if "every deterministic symbol right" in sentence:
            assert wrong == []
            continue
        listed = []
        for p, a, b, got, want in re.findall(r"after (\w) (\d+)(?:\.\.(\d+))? \((\w) for (\w)\)", sentence):
            listed += [(p, k, got, want) for k in range(int(a), int(b or a) + 1)]
        count = {}
        truth = []
        for t in range(len(inputs) - 1):
            s = lang.symbols[inputs[t]]
            count[s] = count.get(s, 0) + 1 if t == 0 or inputs[t - 1] == inputs[t] else 1
            if t in wrong:
                truth.append((s, count[s], lang.symbols[predictions[t]], lang.symbols[targets[t]]))
        assert listed == truth
        first = re.search(r"(\w+ unit \d) was (-?\d+\.\d+), (past|short of) its threshold (-?\d+\.\d+)", sentence)
        label, value, side, threshold = first.group(1), float(first.group(2)), first.group(3), float(first.group(4))
        rule = rules[truth[0][0]]
        assert rule[0] == label and abs(rule[2] - threshold) < 0.006
        actual = states[wrong[0], unit_index(model, label)]
        assert abs(actual - value) <= 0.0051
        switch_side = actual < rule[2] if rule[1] == "falls below" else actual > rule[2]
        assert (side == "past") == switch_side
        switched = predictions[wrong[0]] != inputs[wrong[0]]
        assert ("does not account for this error" in sentence) == (switch_side != switched)


def test_a_fixed_points_one_step_shrinking_holds_near_it(explained):
    model, lang, sentences = explained
    checked = 0
    for s in sentences:
        m = re.search(r"towards the (\w) map's attracting.* fixed point at \(([-\d., ]+)\).*each \w shrinks a small "
                      r"distance to it at least (\d+(?:\.\d+)?)-fold", s)
        if not m:
            continue
        a, factor = lang.symbols.index(m.group(1)), float(m.group(3))
        point = np.array([float(v) for v in m.group(2).split(", ")])
        step = lambda h: one_step(model, h, a)  # noqa: E731
        for _ in range(200):  # the printed point, rounded, is pulled onto the fixed point itself
            point = step(point)
        assert np.linalg.norm(step(point) - point) < 1e-9
        rng = np.random.default_rng(0)
        for _ in range(20):
            d = rng.normal(size=point.shape)
            d *= 1e-6 / np.linalg.norm(d)
            shrink = np.linalg.norm(d) / np.linalg.norm(step(point + d) - point)
            assert shrink >= factor * 0.95 - 0.5  # the factor is printed rounded
        checked += 1
    assert checked == sum("shrinks a small distance" in s for s in sentences)


def one_step(model, state, a):
    """The torch network's next state from ``state`` (h, or h then c) on symbol ``a``."""
    x = torch.zeros(1, 1, model.out.out_features, dtype=torch.float64)
    x[0, 0, a] = 1.0
    s = torch.as_tensor(state, dtype=torch.float64)
    with torch.no_grad():
        if hasattr(model, "rnn"):
            return model.rnn(x, s.view(1, 1, -1))[1].view(-1).numpy()
        k = model.num_hid
        _, (h, c) = model.lstm(x, (s[:k].view(1, 1, -1), s[k:].view(1, 1, -1)))
        return np.concatenate([h.view(-1).numpy(), c.view(-1).numpy()])


def test_slow_points_move_the_state_as_little_as_the_text_says(explained):
    model, lang, sentences = explained
    for s in sentences:
        m = re.search(r"pass the (\w) map's slow point at \(([-\d., ]+)\).*one \w moves the state by (\d+\.\d+), "
                      r"against a median step of (\d+\.\d+)", s)
        if not m:
            continue
        a = lang.symbols.index(m.group(1))
        point = np.array([float(v) for v in m.group(2).split(", ")])
        speed = np.linalg.norm(one_step(model, point, a) - point)
        # the point is printed to 2 decimals, so its speed there may differ a little from the exact one
        assert speed < float(m.group(4))
        assert abs(speed - float(m.group(3))) < 0.03


def test_where_a_count_is_lost_the_values_are_the_networks(explained):
    model, lang, sentences = explained
    for s in sentences:
        m = re.search(r"After (\d+)\.\.(\d+) (\w)'s (\w+ unit \d) still reads ([-\d., ]+); after the first (\w) it "
                      r"reads ([-\d., ]+), a spread", s)
        if not m:
            continue
        ns = range(int(m.group(1)), int(m.group(2)) + 1)
        phase = lang.symbols.index(m.group(6))
        index = unit_index(model, m.group(4))
        before = [float(v) for v in m.group(5).split(", ")]
        after = [float(v) for v in m.group(7).rstrip(",").split(", ")]
        for n, b, a in zip(ns, before, after):
            states, _ = step_states(model, prefix(lang, n, phase) + [phase])
            assert abs(states[-2, index] - b) <= 0.0051
            assert abs(states[-1, index] - a) <= 0.00051
