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


def step_states(model, inputs, more=None):
    """Per input: the whole state (h, or h then c) and the predicted symbol, stepping the torch module.

    With ``more`` (a function of the predictions so far), the inputs go on with the symbol it returns until it
    returns None: a run read one symbol at a time.
    """
    states, predictions = [], []
    h = c = None
    inputs = list(inputs)
    with torch.no_grad():
        t = 0
        while t < len(inputs) or (more is not None and more(predictions) is not None):
            if t == len(inputs):
                inputs.append(more(predictions))
            a = inputs[t]
            t += 1
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

    def more(predictions):  # another of the phase's symbols while the network still predicts one
        read = len(predictions) - len(base)
        return phase if read < 1 or (predictions[-1] == phase and read < cap - 1) else None

    _, predictions = step_states(model, base, more)
    read = len(predictions) - len(base)
    return read if predictions[-1] != phase else None


def numbers(text):
    return [int(v) for v in re.findall(r"\d+", text)]


def rules(sentences):
    """phase symbol -> (deciding unit, "rises above" or "falls below", threshold), read from the sentences."""
    found = {}
    for s in sentences:
        m = re.match(r"The network predicts the \w after the last (\w) when (\w+ unit \d) (rises above|falls below) "
                     r"(-?\d+\.\d+)", s)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3), float(m.group(4)))
    return found


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
        # an LSTM's count is read off its cells, an SRN's off its hidden units
        assert re.search(r"From (\w+) unit", sentence).group(1) == ("cell" if hasattr(model, "lstm") else "hidden")


def test_every_wrong_position_and_the_deciding_units_side(explained):
    model, lang, sentences = explained
    deciding = rules(sentences)
    beyond = [s for s in sentences if re.match(r"n = \d+(\.\.\d+)?: ", s)]
    assert beyond, "the explanation speaks of n past the training range"
    told = []
    for sentence in beyond:
        first, last = re.match(r"n = (\d+)(?:\.\.(\d+))?", sentence).groups()
        ns = list(range(int(first), int(last or first) + 1))
        told += ns
        if "every deterministic symbol right" in sentence:  # n = 5..7: every one of them wholly right
            assert (last is None) == (len(ns) == 1) and len(ns) >= 1
            for n in ns:
                inputs = prefix(lang, n, len(lang.symbols)) + [0]
                predictions = step_states(model, inputs[:-1])[1]
                assert all(inputs[t] == 0 or predictions[t] == inputs[t + 1] for t in range(len(inputs) - 1))
            continue
        assert last is None
        n = ns[0]
        inputs = prefix(lang, n, len(lang.symbols)) + [0]
        states, predictions = step_states(model, inputs[:-1])
        targets = inputs[1:]
        wrong = [t for t in range(len(targets)) if inputs[t] != 0 and predictions[t] != targets[t]]
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
        rule = deciding[truth[0][0]]
        assert rule[0] == label and abs(rule[2] - threshold) < 0.006
        actual = states[wrong[0], unit_index(model, label)]
        assert abs(actual - value) <= 0.0051
        switch_side = actual < rule[2] if rule[1] == "falls below" else actual > rule[2]
        assert (side == "past") == switch_side
        switched = predictions[wrong[0]] != inputs[wrong[0]]
        assert ("does not account for this error" in sentence) == (switch_side != switched)
        kind = re.search(r"The first is (too early|too late|other)", sentence).group(1)
        follows = (inputs[wrong[0]] + 1) % len(lang.symbols)
        assert (kind == "too early") == (predictions[wrong[0]] == follows and targets[wrong[0]] == inputs[wrong[0]])
        assert (kind == "too late") == (predictions[wrong[0]] == inputs[wrong[0]] and targets[wrong[0]] == follows)
    assert told == list(range(lang.length + 1, 2 * lang.length + 1))  # every n past the range, each once, in order


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
        worst = 1 / np.linalg.norm(torch_jacobian(model, point, a), 2)  # the worst one-step shrinking
        digits = 0 if factor >= 10 else 1
        assert abs(worst - factor) <= 0.5 * 10 ** -digits + 1e-3 * worst
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


def torch_jacobian(model, state, a, eps=1e-6):
    """d next state / d state of the torch network on symbol ``a``, by central differences."""
    return np.stack([(one_step(model, state + eps * e, a) - one_step(model, state - eps * e, a)) / (2 * eps)
                     for e in np.eye(len(state))], axis=1)


def test_slow_points_move_the_state_as_little_as_the_text_says(explained):
    model, lang, sentences = explained
    for s in sentences:
        m = re.search(r"pass the (\w) map's slow point at \(([-\d., ]+)\).*one \w moves the state by (\d+\.\d+), "
                      r"against a median step of (\d+\.\d+)", s)
        if not m:
            continue
        a = lang.symbols.index(m.group(1))
        steps = []  # every step the strings of the training range make under this symbol's map
        for n in range(1, lang.length + 1):
            inputs = prefix(lang, n, len(lang.symbols))
            states, _ = step_states(model, inputs)
            before = np.vstack([initial_hidden(model).view(1, -1).numpy(), states[:-1]])
            steps += [np.linalg.norm(states[t] - before[t]) for t in range(len(inputs)) if inputs[t] == a]
        assert abs(np.median(steps) - float(m.group(4))) <= 0.0051
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


# ---------------------------------------------------------------- the rules, by hand


def test_the_logit_margin_is_the_lead_over_the_runner_up():
    from lab.explain import beyond
    from lab.explain.trajectories import StringRun

    logits = np.array([[0.5, 2.0, 1.25], [3.0, -1.0, 2.9]])
    run = StringRun(2, np.zeros(2), np.zeros(2), np.zeros((2, 1)), np.zeros(2), np.zeros(2, int), np.ones(2), logits)
    assert beyond.margin(run, 0) == pytest.approx(0.75) and beyond.margin(run, 1) == pytest.approx(0.1)


def test_steps_that_flip_sign_oscillate_and_steps_one_way_are_monotone():
    from lab.explain import path

    assert path.kind([{"step": s} for s in (0.3, -0.2, 0.25, -0.1)]) == "oscillating"
    assert path.kind([{"step": s} for s in (0.3, 0.2, -0.25, -0.1)]) == "monotone"
    assert path.kind([{"step": s} for s in (-0.3, -0.2, -0.25)]) == "monotone"


def test_rate_matching_by_hand():
    """A contracts by 0.105 per A, B stretches by 1.98 per B: 0.105 x 1.98^2 = 0.4116; ln(1/0.105)/ln(1.98) B's."""
    from lab.explain import path

    a_point = {"eigenvalues": [[-1.92, 0.0], [0.105, 0.0]]}
    b_point = {"eigenvalues": [[-1.98, 0.0], [0.164, 0.0]]}
    got = path.rate_matching(a_point, b_point, 2)
    assert got["lambda_a"] == pytest.approx(0.105) and got["lambda_b"] == pytest.approx(1.98)
    assert got["product"] == pytest.approx(0.105 * 1.98 ** 2)
    assert got["per_a"] == pytest.approx(2.2538 / 0.68310, rel=1e-3)
    assert path.rate_matching(a_point, {"eigenvalues": [[0.5, 0.0]]}, 2) is None


def test_a_run_caps_where_it_stops_growing():
    from lab.explain import runs

    rows = [{"n": n, "network": r, "needed": 2 * n} for n, r in zip(range(1, 9), (2, 4, 6, 8, 8, 8, 8, 8))]
    assert runs._cap(rows, 4) == {"from": 4, "length": 8}
    growing = [{"n": n, "network": 2 * n - (n > 4), "needed": 2 * n} for n in range(1, 9)]
    assert runs._cap(growing, 4) is None
    rows[-1]["network"] = 9
    assert runs._cap(rows, 4) is None


def test_wrong_positions_are_joined_only_when_consecutive_and_alike():
    from lab.explain.sentences import _wrong_text

    wrong = [["B", 8, "A", "B"], ["B", 9, "A", "B"], ["B", 11, "A", "B"], ["C", 14, "A", "C"], ["C", 15, "B", "C"]]
    assert _wrong_text(wrong) == "after B 8..9 (A for B), after B 11 (A for B), after C 14 (A for C), after C 15 (B for C)"


def test_eigenvalues_in_words():
    from lab.explain.sentences import eigen_text

    assert eigen_text([[0.064, 0.0], [0.0001, 0.0]]) == "0.064 and 0.000"
    assert eigen_text([[0.258, 0.153], [0.258, -0.153], [-0.1, 0.0]]) == "0.258 +- 0.153i and -0.100"


def test_tiny_turning_eigenvalues_are_not_called_oscillating():
    from lab.explain.fixed_points import point_type

    assert point_type(np.array([0.0008 + 0.0002j, 0.0008 - 0.0002j])) == "attracting"
    assert point_type(np.array([-0.5, 0.2])) == "attracting, oscillating"
    assert point_type(np.array([-1.98, 0.164])) == "saddle, oscillating"
    assert point_type(np.array([1.5, 0.09 + 0.01j, 0.09 - 0.01j])) == "saddle"


def test_a_unit_is_past_its_threshold_on_the_side_where_its_rule_switches():
    from lab.explain.counters import on_switch_side

    assert on_switch_side(-0.55, {"threshold": -0.48, "direction": "below"})
    assert not on_switch_side(-0.40, {"threshold": -0.48, "direction": "below"})
    assert on_switch_side(0.53, {"threshold": 0.52, "direction": "above"})
    assert not on_switch_side(0.49, {"threshold": 0.52, "direction": "above"})


def test_a_counter_run_is_counted_from_the_first_symbol():
    """x starts at 1.0 after the first symbol and falls by 0.3 a symbol; below 0.05 after 1.0, 0.7, 0.4, 0.1, -0.2:
    the fifth symbol."""
    from lab.explain.runs import predict_run

    decision = {"threshold": 0.05, "direction": "below"}
    assert predict_run([1.0], lambda x: x - 0.3, decision, 20) == 5
    assert predict_run([1.0], lambda x: x, decision, 20) is None


def test_a_late_switch_by_hand():
    """a^2 b^4 then A: the network keeps predicting B after the 4th B (too late). Hidden unit 0 was 0.1, above its
    'switch below -0.5' threshold: short of it, on the side where the network does not switch, so the unit accounts
    for the error; the output put B ahead of A by 1.5."""
    from lab.explain import beyond
    from lab.explain.trajectories import StringRun

    inputs = np.array([0, 0, 1, 1, 1, 1])
    targets = np.array([0, 1, 1, 1, 1, 0])
    predicted = np.array([0, 1, 1, 1, 1, 1])
    states = np.array([[0.9], [0.8], [0.6], [0.4], [0.2], [0.1]])
    logits = np.zeros((6, 2))
    logits[:, 1] = 1.5
    run = StringRun(2, inputs, targets, states, predicted, inputs.copy(), np.array([1, 2, 1, 2, 3, 4]), logits)
    decisions = [{"phase": "B", "unit": "hidden unit 0", "index": 0, "threshold": -0.5, "direction": "below"}]
    rates = [{"unit": "hidden unit 0", "phase": "B", "rate": -0.2}]
    row = beyond.first_error(run, ["A", "B"], decisions, rates)
    e = row["error"]
    assert (e["kind"], e["count"], e["of"], e["predicted"], e["expected"]) == ("too late", 4, 4, "B", "A")
    assert e["past"] is False and e["unit_agrees"] is True and e["margin"] == pytest.approx(1.5)
    assert row["wrong"] == [["B", 4, "B", "A"]] and row["right"] == pytest.approx(3 / 4)
    early = StringRun(2, inputs, targets, states, np.array([0, 1, 0, 1, 1, 1]), inputs.copy(),
                      np.array([1, 2, 1, 2, 3, 4]), logits)
    e = beyond.first_error(early, ["A", "B"], decisions, rates)["error"]
    assert (e["kind"], e["count"], e["past"], e["unit_agrees"]) == ("too early", 1, False, False)


class LineMaps:
    """A one-unit network by hand: each A adds 0.1 to x, each B maps x to tanh(5x)."""

    initial = np.zeros(1)

    def step(self, state, a):
        return state + 0.1 if a == 0 else np.tanh(5 * state)

    def run(self, symbols):
        out, state = [], self.initial
        for a in symbols:
            state = self.step(state, a)
            out.append(state)
        return np.array(out)


def test_where_a_count_is_lost_by_hand():
    """After n A's x = 0.1 n; the first B gives tanh(0.5 n): 0.4621, 0.7616, 0.9051, 0.9640 for n = 1..4 (spacing
    0.0589) and 0.99818, 0.99933 for n = 7, 8 (spread 0.00115, under a tenth of the spacing: lost)."""
    from lab.explain.runs import collapse

    got = collapse(LineMaps(), [1, 2], 1, 0, [1, 2, 3, 4], [7, 8])
    assert got["before"] == pytest.approx([0.7, 0.8])
    assert got["after"] == pytest.approx([np.tanh(3.5), np.tanh(4.0)])
    assert got["in_range_spacing"] == pytest.approx(np.tanh(2.0) - np.tanh(1.5))
    assert got["spread"] == pytest.approx(np.tanh(4.0) - np.tanh(3.5)) and got["lost"] is True
    kept = collapse(LineMaps(), [1, 2], 1, 0, [1, 2, 3, 4], [5, 6])  # tanh(2.5), tanh(3): 0.0084 apart, over 0.0059: kept
    assert kept["spread"] == pytest.approx(np.tanh(3.0) - np.tanh(2.5)) and kept["lost"] is False


def test_runs_agree_when_equal_or_one_apart():
    from lab.explain.runs import _agreement

    rows = [{"network": 8, "predicted": p} for p in (8, 9, 7, 10, 6, None)]
    assert _agreement(rows) == (3, 1)


def test_a_run_that_never_grows_caps_from_the_first_n():
    from lab.explain import runs

    rows = [{"n": n, "network": 3, "needed": 2 * n} for n in range(1, 9)]
    assert runs._cap(rows, 4) == {"from": 1, "length": 3}


class DriftMaps:
    """One unit that never stands still: f(h) = h + 0.3 + 0.1 h^2, slowest at h = 0 where it moves 0.3."""

    kind = "srn"

    def step(self, state, a):
        return state + 0.3 + 0.1 * state ** 2

    def jacobian(self, state, a):
        return np.array([[1.0 + 0.2 * state[0]]])


def test_a_slow_point_must_be_slower_than_the_bar():
    from lab.explain.path import slow_point
    from lab.explain.trajectories import StringRun

    states = np.array([[-0.2], [0.1], [0.4]])
    run = StringRun(3, np.zeros(3), np.zeros(3), states, np.zeros(3), np.zeros(3, int), np.arange(1, 4))
    found = slow_point(DriftMaps(), run, 0, 0.5)
    assert found["state"][0] == pytest.approx(0.0, abs=1e-4) and found["speed"] == pytest.approx(0.3, abs=1e-6)
    assert slow_point(DriftMaps(), run, 0, 0.2) is None


def test_a_forget_gate_is_judged_as_it_is_printed():
    """0.8996 prints as 0.90, so the text must call it keeping (>= 0.9), not 'between keeping and fading'."""
    from lab.explain.sentences import gate_sentences

    result = {"units": ["cell unit 0"],
              "rates": [{"unit": "cell unit 0", "phase": "B", "verdict": "counts up"}],
              "gates": [{"unit": "cell unit 0", "phase": "B", "forget_steady": 0.8996, "forget_end": 0.47,
                         "input": 0.8, "output": 0.3, "forget": 0.7}]}
    text = gate_sentences(result)[0]
    assert "its input gate averages 0.80." in text
    assert "0.90 during the B's" in text and "keeps its value" in text and "then 0.47 over the last two" in text
    result["gates"][0]["forget_steady"] = 0.8949
    assert "between keeping and fading" in gate_sentences(result)[0]


def test_a_balance_is_each_phases_own_length_times_its_rate(explained):
    """'2n B's raise it by 1.94n and 3n C's lower it by 2.03n': 2 x the B rate and 3 x the C rate, as printed."""
    model, lang, sentences = explained
    mult = dict(zip(lang.symbols, [1] + list(lang.mult)))
    checked = 0
    for s in sentences:
        rates = dict((p, float(r)) for r, p in re.findall(r"(?:rises|falls) by (\d+\.\d+) per (\w) ", s))
        for m, p, total in re.findall(r"(\d*)n (\w)'s (?:raise|lower) it by (\d+\.\d+)n", s):
            assert int(m or 1) == mult[p]
            assert float(total) == pytest.approx(mult[p] * rates[p], abs=0.0051 * mult[p] + 1e-9)
            checked += 1
    assert checked >= (2 if hasattr(model, "lstm") else 0)


def test_a_unit_short_of_its_threshold_is_said_to_be_short_of_it():
    """A too-early switch while the deciding unit is still on its continue side: 'short of', and not accounted for."""
    from lab.explain.sentences import beyond_sentences

    error = {"position": 9, "phase": "B", "count": 8, "of": 10, "predicted": "A", "expected": "B", "kind": "too early",
             "unit": "hidden unit 1", "value": 0.49, "threshold": 0.52, "direction": "above", "past": False,
             "unit_agrees": False, "margin": 1.25, "step_change": -0.1, "saturated": False}
    result = {"length": 4, "symbols": ["A", "B"], "mult": [2], "common_stop": None,
              "beyond": [{"n": 5, "right": 0.8, "wrong": [["B", 8, "A", "B"], ["B", 9, "A", "B"]], "error": error}]}
    text = beyond_sentences(result)[0]
    assert "hidden unit 1 was 0.49, short of its threshold 0.52" in text
    assert "does not account for this error" in text and "A ahead by 1.25" in text
    error.update(value=0.55, past=True, unit_agrees=True)
    text = beyond_sentences(result)[0]
    assert "was 0.55, past its threshold 0.52." in text and "does not account" not in text


def test_a_lost_count_is_stated_with_the_values_before_and_after():
    from lab.explain.sentences import run_sentences

    row = {"phase": "B", "unit": "hidden unit 0", "with": None, "threshold": -0.48, "direction": "below",
           "same": 8, "near": 8, "cap": {"from": 4, "length": 8},
           "runs": [{"n": n, "needed": 2 * n, "network": min(2 * n, 8), "predicted": min(2 * n, 8)}
                    for n in range(1, 9)],
           "collapse": {"ns": [5, 6], "before": [-0.31, 0.74], "after": [0.9954, 0.99996], "in_range_spacing": 0.1,
                        "spread": 0.0046, "lost": True}}
    first, cap = run_sentences({"symbols": ["A", "B"], "runs": [row]})
    assert "lasts 2, 4, 6, 8, 8, 8, 8, 8 for n = 1..8, where 2, 4, 6, 8, 10, 12, 14, 16 are needed" in first
    assert "until hidden unit 0 falls below -0.48" in first
    assert "After 5..6 A's hidden unit 0 still reads -0.31, 0.74; after the first B it reads 0.995, 1.000" in cap
    assert "a spread of 0.005 against at least 0.10" in cap and "erases the count" in cap


def torch_gates(model, inputs):
    """The LSTM's input and forget gates on reading each input, from its weights (torch's order: i, f, g, o)."""
    k = model.num_hid
    w_in, w_rec = model.lstm.weight_ih_l0.detach().double(), model.lstm.weight_hh_l0.detach().double()
    bias = (model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0).detach().double()
    states, _ = step_states(model, inputs)
    hidden = np.vstack([np.zeros(k), states[:-1, :k]])
    z = np.eye(model.out.out_features)[inputs] @ w_in.numpy().T + hidden @ w_rec.numpy().T + bias.numpy()
    sig = 1 / (1 + np.exp(-z))
    return sig[:, :k], sig[:, k:2 * k]


def test_forget_gates_are_the_networks_own(explained):
    """'its forget gate averages X during the B's ... then Y over the last two', recomputed from the LSTM's weights
    over the strings of the training range: X over each phase's symbols but its first and last two, Y over those two."""
    model, lang, sentences = explained
    if not hasattr(model, "lstm"):  # an SRN has no gates, and its text names none
        assert not any("forget gate" in s for s in sentences)
        return
    checked = 0
    for s in sentences:
        m = re.match(r"While cell unit (\d) counts", s)
        if not m:
            continue
        u = int(m.group(1))
        for steady, phase, end in re.findall(r"(\d\.\d\d) during the (\w)'s, a leak of \d+% of its value a step, "
                                             r"then (\d\.\d\d) over the last two", s):
            p = lang.symbols.index(phase)
            middle, last = [], []
            for n in range(1, lang.length + 1):
                inputs = prefix(lang, n, len(lang.symbols))
                _, forget = torch_gates(model, inputs)
                where = [t for t, a in enumerate(inputs) if a == p]
                middle += [forget[t, u] for t in where[1:-2]]
                last += [forget[t, u] for t in where[-2:]]
            assert abs(np.mean(middle) - float(steady)) <= 0.0051 and abs(np.mean(last) - float(end)) <= 0.0051
            checked += 1
    assert checked >= 1


class PairMaps:
    """Two units by hand: the first moves by the second, which stays: (x, y) -> (x + y, y)."""

    def step(self, state, a):
        return np.array([state[0] + state[1], state[1]])


def test_a_counter_map_takes_the_rest_of_the_state_from_the_nearest_seen_value():
    """Seen: (0, 0.1), (1, 0.2), (2, 0.3). From x = 1.1 the nearest seen x is 1, whose y is 0.2: g(1.1) = 1.3."""
    from lab.explain.runs import CounterMap

    seen = [[0.0, 0.1], [1.0, 0.2], [2.0, 0.3]]
    counter = CounterMap(PairMaps(), 0, [0], seen)
    assert counter(np.array([1.1]))[0] == pytest.approx(1.3)
    assert counter(np.array([2.4]))[0] == pytest.approx(2.7)
    assert counter(np.array([-5.0]))[0] == pytest.approx(-4.9)


def test_the_one_step_promise_comes_from_the_norm():
    """Eigenvalues 0.064 and 0.000 but norm 0.069: one step shrinks at least 1 / 0.069 = 14.5-fold, printed 14."""
    from lab.explain.sentences import _point_text

    point = {"type": "attracting", "state": [1.0, 0.94], "eigenvalues": [[0.064, 0.0], [0.0, 0.0]], "largest": 0.064,
             "norm": 0.069}
    assert "at least 14-fold, the Jacobian's norm being 0.069" in _point_text("A", point)
    point["norm"] = 1.4
    text = _point_text("A", point)
    assert "shrinks" not in text and "up to 1.40-fold" in text


def test_the_counters_pool_leaves_out_each_phases_first_symbol():
    from lab.explain.runs import phase_states
    from lab.explain.trajectories import StringRun

    inputs = np.array([0, 0, 1, 1, 1, 1])
    states = np.arange(6.0)[:, None]
    run = StringRun(2, inputs, inputs, states, inputs, inputs.copy(), np.array([1, 2, 1, 2, 3, 4]))
    assert np.array(phase_states([run], 1))[:, 0].tolist() == [3.0, 4.0, 5.0]
    assert np.array(phase_states([run], 0))[:, 0].tolist() == [1.0]


def test_the_path_along_a_string_is_the_networks_own(explained):
    """'hidden unit 0 reads ... after 1..k B's; the local multiplier ... runs m1, m2, ...': the values from torch, the
    multipliers the largest |eigenvalue| of the torch map's Jacobian (by differences) where each symbol is read."""
    model, lang, sentences = explained
    checked = 0
    for s in sentences:
        m = re.match(r"Along the string with n = (\d+), (hidden unit \d) reads ([-\d., ]+) after 1\.\.(\d+) (\w)'s; "
                     r"the local multiplier .* runs ([-\d., ]+?)\. ", s)
        if not m:
            continue
        n, index, symbol = int(m.group(1)), unit_index(model, m.group(2)), m.group(5)
        values = [float(v) for v in m.group(3).split(", ")]
        multipliers = [float(v) for v in m.group(6).split(", ")]
        inputs = prefix(lang, n, len(lang.symbols))
        states, _ = step_states(model, inputs)
        before = np.vstack([initial_hidden(model).view(1, -1).numpy(), states[:-1]])
        where = [t for t, a in enumerate(inputs) if lang.symbols[a] == symbol]
        assert len(where) == int(m.group(4)) == len(values) == len(multipliers)
        for t, value, mult in zip(where, values, multipliers):
            assert abs(states[t, index] - value) <= 0.0051
            jac = torch_jacobian(model, before[t], inputs[t])
            assert abs(np.max(np.abs(np.linalg.eigvals(jac))) - mult) <= 0.0051
        checked += 1
    assert checked == (len(lang.symbols) if hasattr(model, "rnn") else 0)


def test_an_lstms_counter_candidates_are_its_cells():
    """Both the hidden unit and the cell separate the switch; with cells_only the cell alone is a candidate."""
    from lab.explain.counters import switch_candidates
    from lab.explain.trajectories import StringRun

    class OneCell:
        kind, hid = "lstm", 1

    inputs = np.array([0, 1, 1, 1])
    states = np.array([[0.9, 2.0], [0.8, 1.5], [0.6, 1.0], [-0.5, -0.4]])
    run = StringRun(1, inputs, inputs, states, inputs, inputs.copy(), np.array([1, 1, 2, 3]))
    assert [c[0] for c in switch_candidates(OneCell(), [run], 1, cells_only=True)] == ["cell unit 0"]
    assert sorted(c[0] for c in switch_candidates(OneCell(), [run], 1)) == ["cell unit 0", "hidden unit 0"]


def test_a_decision_counts_the_positions_of_its_phase(explained):
    """'separates all the 20 positions after a B in strings with n = 1..4': 2 (1 + 2 + 3 + 4) B's."""
    model, lang, sentences = explained
    mult = dict(zip(lang.symbols, [1] + list(lang.mult)))
    checked = 0
    for s in sentences:
        m = re.search(r"the (\d+) positions after a (\w) in strings with n = 1\.\.(\d+)", s)
        if m:
            top = int(m.group(3))
            assert int(m.group(1)) == mult[m.group(2)] * top * (top + 1) // 2
            checked += 1
    assert checked >= 1


STEADY = 0.05  # per n: the bound the sentences state, "(steady: under 0.05 per n)"


def slope(ns, values):
    """The least-squares slope of values over ns, from its definition: cov(n, y) / var(n)."""
    ns, values = np.asarray(ns, float), np.asarray(values, float)
    return float(((ns - ns.mean()) * (values - values.mean())).sum() / ((ns - ns.mean()) ** 2).sum())


DRIFT = (r"At the last (\w), where the network decides what follows, (\w+ unit \d) ends at values that move by "
         r"([-+]?\d+\.\d+) per n over n = 1\.\.(\d+) \((steady: under 0\.05 per n|drifting[^)]*)\) and by "
         r"([-+]?\d+\.\d+) per n over n = (\d+)\.\.(\d+)(?:, (towards|away from) its threshold (-?\d+\.\d+))?\.$")


def check_drifts(model, lang, sentences):
    """Every "At the last B ..." sentence against the network: its end values per n, stepped string by string,
    give the two slopes it states, the steady verdict and the direction towards or away from the switch side.
    Returns the largest n the sentences speak of."""
    said = [s for s in sentences if s.startswith("At the last ")]
    assert len(said) == len(lang.symbols) - 1
    deciding = rules(sentences)
    for sentence in said:
        m = re.match(DRIFT, sentence)
        assert m, sentence
        phase, unit, top = m.group(1), m.group(2), int(m.group(8))
        assert deciding[phase][0] == unit
        assert (int(m.group(4)), int(m.group(7))) == (lang.length, lang.length + 1)
        index, p = unit_index(model, unit), lang.symbols.index(phase)
        ends = [step_states(model, prefix(lang, n, p + 1))[0][-1, index] for n in range(1, top + 1)]
        inside = slope(range(1, lang.length + 1), ends[:lang.length])
        past = slope(range(lang.length + 1, top + 1), ends[lang.length:])
        assert abs(float(m.group(3)) - inside) <= 0.0051 and abs(float(m.group(6)) - past) <= 0.0051
        assert m.group(5).startswith("steady") == (abs(inside) < STEADY)
        switches_upwards = deciding[phase][1] == "rises above"
        if m.group(5).startswith("drifting") and abs(inside) >= 0.005:
            assert ("towards" in m.group(5)) == ((inside > 0) == switches_upwards)
        if m.group(9) is None:
            assert abs(past) < 0.005
            continue
        assert (m.group(9) == "towards") == ((past > 0) == switches_upwards)
        assert float(m.group(10)) == deciding[phase][2]
    return top


def test_where_each_phase_ends_the_stated_drift_is_the_networks_own(explained):
    model, lang, sentences = explained
    assert check_drifts(model, lang, sentences) == 2 * lang.length
