"""Part 3 against independent truth: seq_train.py's steps, reports, verdict and stop rule, seq_fsm.py's machine.

a^n b^n with --length 1 has one sequence only, ABABABABAB: every batch is
the same, so an update is computable by hand (an Elman network written out
from the checkpoint's weights, the gradient of the mean cross-entropy of the
next symbol, and the optimisers' published updates: SGD with torch's
momentum, v = g at the first step then v = mom*v + g, w -= lr*v; Adam as in
Kingma & Ba 2015, Algorithm 1), and so is every reported loss (the mean
squared difference between predicted and true next-symbol probabilities,
each sequence scored before the update it takes part in) and the verdict.
A run with a learning rate of 1e-30 leaves the weights as drawn: W0.

--until is checked against its rule in words ("stop once the loss stayed
below X for 10 reports in a row") on a run whose losses go up and down, at
the threshold just above a window's largest loss and exactly at it.

seq_fsm.py reads a hand-built network: three hidden units, two turning a
quarter circle per input (a cycle of four states, two after A, two after
B), one saying which symbol came last; after A it gives B the probability
0.95 or 0.95 - d by the cycle's phase, after B it gives A 0.99. Its
machine, merging and --tv criterion follow by hand from d.

The embedded Reber generator's --length is checked against the published
grammar (B, T or P, a Reber string, the same T or P, E) and the rule in
words: the whole string at least that long, every other choice open.
"""
import json
import math
import os

import numpy as np
import pytest
import torch

import seq_fsm
import seq_train
from conftest import run_command
from reber import ReberLanguage
from seq_models import build_model, save_checkpoint

AB_INPUTS, AB_TARGETS = [0, 1] * 4 + [0], [1, 0] * 4 + [1]  # ABABABABAB: inputs and next symbols


# ------------------------------------------------------------------------------------------ a^n b^n, n = 1, by hand

def srn_logits(p, inputs):
    """Elman's network by hand: h_0 = tanh(H0), h_t = tanh(W x_t + b_W + U h_(t-1) + b_U), logits V h_t + c."""
    h = torch.tanh(p["H0"])
    rows = []
    for symbol in inputs:
        x = torch.zeros(2, dtype=torch.float64)
        x[symbol] = 1.0
        h = torch.tanh(p["rnn.weight_ih_l0"] @ x + p["rnn.bias_ih_l0"] + p["rnn.weight_hh_l0"] @ h
                       + p["rnn.bias_hh_l0"])
        rows.append(p["out.weight"] @ h + p["out.bias"])
    return torch.stack(rows)


def cross_entropy_gradient(p):
    """d/dp of the mean cross-entropy of the next symbols of ABABABABAB."""
    q = {k: v.clone().requires_grad_() for k, v in p.items()}
    logits = srn_logits(q, AB_INPUTS)
    loss = -logits.log_softmax(-1)[torch.arange(9), AB_TARGETS].mean()
    loss.backward()
    return {k: v.grad for k, v in q.items()}


def reported_loss(p):
    """Mean over positions and symbols of (predicted - true probability)^2; every next symbol is certain here."""
    with torch.no_grad():
        predicted = srn_logits(p, AB_INPUTS).softmax(-1)
    return float((predicted - torch.eye(2, dtype=torch.float64)[AB_TARGETS]).square().mean())


def hand_trajectory(w0, optim, lr, mom, steps):
    """The weights before each of ``steps`` updates and after the last."""
    w, path = dict(w0), [dict(w0)]
    velocity, m, v = {}, {k: 0 * x for k, x in w0.items()}, {k: 0 * x for k, x in w0.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        g = cross_entropy_gradient(w)
        for k in w:
            if optim == "adam":
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
                w[k] = w[k] - lr * (m[k] / (1 - b1 ** t)) / ((v[k] / (1 - b2 ** t)).sqrt() + eps)
            else:
                velocity[k] = g[k] if t == 1 else mom * velocity[k] + g[k]
                w[k] = w[k] - lr * velocity[k]
        path.append(dict(w))
    return path


def state(path):
    """A checkpoint's weights as float64 tensors."""
    return {k: v.double() for k, v in torch.load(path, weights_only=True)["state_dict"].items()}


def train(folder, *flags, on_line=None):
    """seq_train.py in-process with its outputs in ``folder``; returns (status, stdout, stderr)."""
    return run_command(seq_train.main, [*flags, "--out_path", str(folder), "--plot_path", str(folder / "plot")],
                       on_line)


def record(path):
    return json.loads(open(path, encoding="utf-8").read())


ONE_STRING = ["--lang", "anbn", "--length", "1", "--candidates", "1"]


@pytest.fixture(scope="module")
def w0(tmp_path_factory):
    """The weights every ONE_STRING run with seed 0 starts from (--init 0.5)."""
    folder = tmp_path_factory.mktemp("w0")
    status, _, err = train(folder, *ONE_STRING, "--epoch", "1", "--batch", "1000", "--optim", "sgd", "--lr", "1e-30")
    assert status == 0, err
    return state(folder / "anbn_srn2_1.pth")


@pytest.mark.parametrize("optim, mom", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_updates_reports_and_verdict_are_the_hand_computed_ones(optim, mom, w0, tmp_path):
    """Four updates of 500 sequences (--batch 500, --epoch 2) from W0, and everything the record says of them."""
    lr = 0.3
    flags = [*ONE_STRING, "--epoch", "2", "--batch", "500", "--optim", optim, "--lr", str(lr)]
    status, out, err = train(tmp_path, *flags, *(["--mom", str(mom)] if optim == "sgd" else []))
    assert status == 0, err
    path = hand_trajectory(w0, optim, lr, mom, 4)
    got = state(tmp_path / "anbn_srn2_2.pth")
    for name in got:
        np.testing.assert_allclose(got[name].numpy(), path[-1][name].numpy(), rtol=1e-4, atol=2e-5, err_msg=name)
    results = record(tmp_path / "anbn_srn2.json")["results"]
    losses = [reported_loss(w) for w in path]
    expected = [(losses[0] + losses[1]) / 2, (losses[2] + losses[3]) / 2]  # 500 sequences before each update
    assert [r["thousands"] for r in results["reports"]] == [1, 2]
    assert [r["loss"] for r in results["reports"]] == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert [float(line.split()[1]) for line in out.splitlines() if line.startswith("loss: ")] == \
        pytest.approx(expected, abs=6e-5)
    with torch.no_grad():
        chosen = srn_logits(path[-1], AB_INPUTS).softmax(-1)[torch.arange(9), AB_TARGETS]
    verdict = results["verdict"]
    assert verdict["sequences"] == 100 and verdict["det_total"] == 900  # 9 certain symbols per sequence
    assert verdict["det_right"] == 100 * int((chosen > 0.5).sum())
    assert verdict["loss"] == pytest.approx(losses[-1], rel=1e-4, abs=1e-7)
    assert results["learned"] == (verdict["det_right"] >= 0.99 * 900 and verdict["loss"] < results["target_loss"])
    assert results["sequences_seen"] == 2000 and results["last_checkpoint"] == str(tmp_path / "anbn_srn2_2.pth")
    share = verdict["det_right"] / 900
    assert (f"deterministic symbols predicted (p > 0.5) {share:.1%} ({verdict['det_right']}/900), "
            f"mean loss {losses[-1]:.4f}") in out


def test_init_is_the_standard_deviation_of_the_initial_weights(w0, tmp_path):
    """--init 1.5 draws the same numbers as the default 0.5, three times as large; another seed draws others."""
    status, _, err = train(tmp_path / "a", *ONE_STRING, "--epoch", "1", "--batch", "1000", "--optim", "sgd",
                           "--lr", "1e-30", "--init", "1.5")
    assert status == 0, err
    wide = state(tmp_path / "a" / "anbn_srn2_1.pth")
    for name in w0:
        np.testing.assert_allclose(wide[name].numpy(), 3 * w0[name].numpy(), rtol=1e-6, err_msg=name)
    status, _, err = train(tmp_path / "b", *ONE_STRING, "--epoch", "1", "--batch", "1000", "--optim", "sgd",
                           "--lr", "1e-30", "--seed", "7")
    assert status == 0, err
    other = state(tmp_path / "b" / "anbn_srn2_1.pth")
    assert not any(torch.equal(other[name], w0[name]) for name in w0)


def test_a_second_run_on_the_same_series_is_refused_while_the_first_runs(tmp_path):
    """seq_train.py holds a lock on its series, as kuzu_main.py --save does: a run started meanwhile is refused."""
    inner = {}

    def second_run(line):
        if line == "epoch: 1" and not inner:
            inner["result"] = train(tmp_path, *ONE_STRING, "--epoch", "1", "--batch", "1000")
    status, _, err = train(tmp_path, *ONE_STRING, "--epoch", "2", "--batch", "1000", on_line=second_run)
    assert status == 0, err
    inner_status, inner_out, inner_err = inner["result"]
    assert inner_status == 1 and "another run is writing" in inner_err and "anbn_srn2.lock" in inner_err
    assert "epoch:" not in inner_out
    assert sorted(os.listdir(tmp_path)) == ["anbn_srn2.json", "anbn_srn2_2.pth", "plot"]  # the lock is gone


# ------------------------------------------------------------------------------------------------------- --until

def below_in_a_row(losses, threshold, count=10):
    """The rule in words: the first report after which the last ``count`` reports were all below the threshold."""
    return next((i for i in range(count - 1, len(losses)) if max(losses[i - count + 1:i + 1]) < threshold), None)


def below_in_total(losses, threshold, count=10):
    """The rule a bug might use instead: the first report at which ``count`` reports in all were below it."""
    return next((i for i in range(len(losses)) if sum(x < threshold for x in losses[:i + 1]) >= count), None)


def test_until_stops_after_ten_reports_in_a_row_below_the_threshold(tmp_path):
    """Losses that go up and down (nothing learns at lr 1e-30; the sequences differ): at a window's largest loss
    the run goes on, just above it the run stops at that window's last report, not when ten were below in total."""
    flags = ["--lang", "anbn", "--length", "2", "--candidates", "1", "--batch", "1000", "--epoch", "14",
             "--lr", "1e-30", "--seed", "1"]
    status, _, err = train(tmp_path / "all", *flags)
    assert status == 0, err
    losses = [r["loss"] for r in record(tmp_path / "all" / "anbn_srn2.json")["results"]["reports"]]
    edge = None
    for end in range(9, len(losses)):  # a window whose largest loss makes the rules differ (the test's premise)
        top = max(losses[end - 9:end + 1])
        above = math.nextafter(top, math.inf)
        if below_in_a_row(losses, above) == end != below_in_total(losses, above) and \
                below_in_a_row(losses, top) != end:
            edge = (end, top, above)
            break
    assert edge, losses
    end, top, above = edge
    status, out, err = train(tmp_path / "above", *flags, "--until", repr(above))
    assert status == 0, err
    results = record(tmp_path / "above" / "anbn_srn2.json")["results"]
    assert [r["loss"] for r in results["reports"]] == losses[:end + 1]
    assert results["sequences_seen"] == 1000 * (end + 1)
    assert f"stopping: the loss stayed below {above} for the last 10 reports" in out
    assert results["last_checkpoint"].endswith(f"anbn_srn2_{end + 1}.pth")
    status, out, err = train(tmp_path / "at", *flags, "--until", repr(top))
    assert status == 0, err
    stop = below_in_a_row(losses, top)
    seen = record(tmp_path / "at" / "anbn_srn2.json")["results"]["sequences_seen"]
    assert seen == 1000 * (len(losses) if stop is None else stop + 1)
    assert ("stopping:" in out) == (stop is not None)


# ------------------------------------------------------------------------------------------ candidates and --resume

CANDIDATES = [*ONE_STRING[:4], "--candidates", "3", "--select", "11", "--epoch", "12", "--batch", "1000",
              "--optim", "sgd", "--lr", "0.3"]  # one update per report; with seed 0 the choice is candidate 1


@pytest.fixture(scope="module")
def resumed_pair(tmp_path_factory):
    """(uninterrupted run: folder, stdout; the same run stopped by Ctrl-C at report 11 and resumed: folder, stdout)."""
    base = tmp_path_factory.mktemp("candidates")
    status, whole_out, err = train(base / "whole", *CANDIDATES)
    assert status == 0, err

    def ctrl_c(line):
        if line == "epoch: 11":
            raise KeyboardInterrupt
    status, _, err = train(base / "part", *CANDIDATES, on_line=ctrl_c)
    assert status == 130 and "go on with --resume" in err, err
    assert sorted(os.listdir(base / "part")) == ["anbn_srn2_10.pth"]  # no lock, nothing half written
    status, part_out, err = train(base / "part", *CANDIDATES, "--resume")
    assert status == 0, err
    return base / "whole", whole_out, base / "part", part_out


def test_the_candidate_record_is_what_the_run_printed_and_chose(resumed_pair):
    """candidate_losses as printed at --select; chosen: the lowest of them; reports: the printed loss lines.
    From checkpoint 10 (rewritten with the chosen network at 10k) two SGD steps by hand give the network
    delivered, the last two reports (each the loss before that report's update) and the verdict."""
    folder, out, _, _ = resumed_pair
    results = record(folder / "anbn_srn2.json")["results"]
    printed = [float(v) for v in next(line for line in out.splitlines()
                                      if line.startswith("candidates' losses: ")).split(": ")[1].split()]
    assert results["candidate_losses"] == pytest.approx(printed, abs=6e-5) and len(printed) == 3
    assert results["chosen"] == int(np.argmin(results["candidate_losses"])) and results["chosen_at"] == 11
    assert results["chosen"] != 0  # the premise: a network other than the first is delivered
    assert f"(candidate {results['chosen']}, final choice)" in out
    assert results["reports"][10]["loss"] == min(results["candidate_losses"])  # the choice's report is the best one
    lines = [float(line.split()[1]) for line in out.splitlines() if line.startswith("loss: ")]
    assert [r["loss"] for r in results["reports"]] == pytest.approx(lines, abs=6e-5) and len(lines) == 12
    assert results["sequences_seen"] == 12000 and results["candidates"] == 3
    last = torch.load(results["last_checkpoint"], weights_only=True)
    assert last["seen"] == 12000 and last["candidate"] == results["chosen"]
    path = hand_trajectory(state(folder / "anbn_srn2_10.pth"), "sgd", 0.3, 0.0, 2)
    for name, value in state(results["last_checkpoint"]).items():
        np.testing.assert_allclose(value.numpy(), path[-1][name].numpy(), rtol=1e-4, atol=2e-5, err_msg=name)
    assert [r["loss"] for r in results["reports"][10:]] == pytest.approx([reported_loss(w) for w in path[:2]],
                                                                         rel=1e-4)
    verdict = results["verdict"]
    with torch.no_grad():
        right = srn_logits(path[-1], AB_INPUTS).softmax(-1)[torch.arange(9), AB_TARGETS] > 0.5
    assert verdict["loss"] == pytest.approx(reported_loss(path[-1]), rel=1e-4)
    assert verdict["det_total"] == 900 and verdict["det_right"] == 100 * int(right.sum())


def test_a_resumed_runs_record_equals_the_uninterrupted_ones(resumed_pair):
    """Field by field, the folder, the --resume flag and the times aside."""
    whole, _, part, part_out = resumed_pair
    a, b = record(whole / "anbn_srn2.json"), record(part / "anbn_srn2.json")
    assert "resuming from" in part_out and b["results"]["resumed"] is True and a["results"]["resumed"] is False
    assert set(a["results"]) == set(b["results"])
    for key in a["results"]:
        if key == "last_checkpoint":
            assert os.path.basename(a["results"][key]) == os.path.basename(b["results"][key])
        elif key != "resumed":
            assert a["results"][key] == b["results"][key], key
    settings = lambda r: {k: v for k, v in r["settings"].items() if k not in ("resume", "out_path", "plot_path")}
    assert settings(a) == settings(b) and set(a) == set(b)
    assert [os.path.basename(p) for p in a["files"]] == [os.path.basename(p) for p in b["files"]]


# -------------------------------------------------------------------------------------- seq_fsm on a known network

def logit(p):
    return math.log(p / (1.0 - p))


def cycle_network(path, difference, turn=1.2, gain=10.0):
    """The hand-built SRN for a^n b^n, n = 1 (see the module's docstring); returns the states' true predictions.

    Units 0 and 1 turn by a quarter per input: h <- tanh(turn * R h) keeps them on a cycle of radius r with
    r = tanh(turn * r); unit 2 is tanh(gain * (A - B)). Output logits: A 0, B a (h0 + h1) + e h2 + c.
    """
    radius = 0.5
    for _ in range(200):
        radius = math.tanh(turn * radius)
    p_b = (0.95, 0.95 - difference)  # B after A, by the cycle's phase
    l0, l2, lb = logit(p_b[0]), logit(p_b[1]), logit(0.01)  # after B, A has 0.99
    g = math.tanh(gain)
    c = ((l0 + l2) / 2 + lb) / 2
    e, a = ((l0 + l2) / 2 - lb) / (2 * g), (l0 - l2) / (4 * radius)
    config = dict(lang="anbn", embed=False, length=1, model="srn", num_input=2, num_hid=3, num_out=2)
    net = build_model(config)
    net.load_state_dict({
        "H0": torch.tensor([math.atanh(radius), -math.atanh(radius), 0.0]),
        "rnn.weight_ih_l0": torch.tensor([[0.0, 0.0], [0.0, 0.0], [gain, -gain]]),
        "rnn.weight_hh_l0": torch.tensor([[0.0, -turn, 0.0], [turn, 0.0, 0.0], [0.0, 0.0, 0.0]]),
        "rnn.bias_ih_l0": torch.zeros(3), "rnn.bias_hh_l0": torch.zeros(3),
        "out.weight": torch.tensor([[0.0, 0.0, 0.0], [a, a, e]]), "out.bias": torch.tensor([0.0, c])})
    save_checkpoint(path, net, config, seen=1000)
    return p_b


def fsm(checkpoint, folder, *flags):
    """seq_fsm.py in-process on 20 sequences (and 30 per validation set); returns (status, stdout, results)."""
    status, out, err = run_command(seq_fsm.main, ["--checkpoint", str(checkpoint), "--plot_path", str(folder),
                                                  "--sequences", "20", "--validate", "30", *flags])
    assert status == 0, err
    return out, record(folder / "anbn_srn3_fsm.json")["results"]


@pytest.mark.parametrize("difference, merged", [(0.09, 3), (0.11, 5)])
def test_states_merge_only_within_total_variation_0_1(difference, merged, tmp_path):
    """The two A states predict B with 0.95 and 0.95 - d (TV d): merged for d = 0.09, kept apart for d = 0.11."""
    p_b = cycle_network(tmp_path / "net.pth", difference)
    out, results = fsm(tmp_path / "net.pth", tmp_path / "plot", "--states", "5")
    raw = results["raw_machine"]["states"]
    assert len(raw) == 5 and sum(s["points"] for s in raw) == 10 * 20  # 9 inputs and the start, per sequence
    found = sorted(round(s["probabilities"]["B"], 4) for s in raw[1:])
    assert found == sorted([0.01, 0.01, round(p_b[0], 4), round(p_b[1], 4)])
    assert results["merged"]["states"] == merged
    within = results["validation"][0]
    assert within["set"] == "within (n 1..1)" and within["deterministic"] == 9 * 30
    assert within["machine_right"] == within["network_right"] == within["nearest_state"] == 1.0


def test_tv_criterion_at_its_edge(tmp_path):
    """Start plus 2 clusters (A and B states) leaves a mean TV of 12/45 * d (A states 3:2 around their mean);
    --tv just above it keeps that 3-state machine, just below it does not."""
    d = 0.09
    cycle_network(tmp_path / "net.pth", d)
    tv = 12 / 45 * d
    _, results = fsm(tmp_path / "net.pth", tmp_path / "above", "--tv", f"{tv * 1.04:.6f}")
    row = next(r for r in results["sweep"] if r["states"] == 3)
    assert row["mean_tv"] == pytest.approx(tv, rel=1e-4) and row["criterion_met"]
    assert len(results["raw_machine"]["states"]) == 3 and results["criterion_met"]
    _, results = fsm(tmp_path / "net.pth", tmp_path / "below", "--tv", f"{tv * 0.96:.6f}")
    assert not next(r for r in results["sweep"] if r["states"] == 3)["criterion_met"]
    assert len(results["raw_machine"]["states"]) > 3
    for r in results["sweep"]:
        assert r["criterion_met"] == (r["machine_right"] >= r["network_right"] and r["mean_tv"] <= tv * 0.96)


def test_lstm_counting_summary_of_a_hand_built_counter(tmp_path):
    """One LSTM unit with its input, forget and output gates held open (bias 20) and cell input tanh of
    atanh(0.5) after A, atanh(-0.25) after B, 0 after C: its cell counts +0.5 per A and -0.25 per B, exactly
    back to 0 after a^n b^2n, and stays put over the C's. The summary the report shows: steady up in the A's,
    steady down in the B's, no steady count in the C's (a mean change under 0.05)."""
    config = dict(lang="anb2nc3n", embed=False, length=3, model="lstm", num_input=3, num_hid=1, num_out=3)
    net = build_model(config)
    net.load_state_dict({
        "lstm.weight_ih_l0": torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                                           [math.atanh(0.5), math.atanh(-0.25), 0.0], [0.0, 0.0, 0.0]]),
        "lstm.weight_hh_l0": torch.zeros(4, 1), "lstm.bias_ih_l0": torch.tensor([20.0, 20.0, 0.0, 20.0]),
        "lstm.bias_hh_l0": torch.zeros(4), "out.weight": torch.zeros(3, 1), "out.bias": torch.zeros(3)})
    save_checkpoint(tmp_path / "net.pth", net, config, seen=1000)
    status, _, err = run_command(seq_fsm.main, ["--checkpoint", str(tmp_path / "net.pth"), "--plot_path",
                                                str(tmp_path / "plot"), "--states", "4", "--sequences", "20",
                                                "--validate", "30"])
    assert status == 0, err
    rows = record(tmp_path / "plot" / "anb2nc3n_lstm1_fsm.json")["results"]["context_summary"]
    assert [(r["unit"], r["phase"], r["steady"]) for r in rows] == [("cell 0", "A", True), ("cell 0", "B", True),
                                                                       ("cell 0", "C", False)]
    assert [r["rate"] for r in rows] == pytest.approx([0.5, -0.25, 0.0], abs=1e-6)
    assert [r["sd"] for r in rows] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)


# ----------------------------------------------------------------------------------- Reber's --length, by definition

DIAGRAM = {0: {"B": 1}, 1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5}, 4: {"X": 3, "S": 6},
           5: {"P": 4, "V": 6}, 6: {"E": 7}}  # the published Reber grammar: node -> {symbol: next node}; 7 the end


def open_choices(node, symbols_so_far, outside, minimum):
    """The symbols that can follow at ``node`` in a string that must reach ``minimum`` symbols in all.

    ``outside``: symbols of the whole string that are not in this Reber string (4 for the embedded grammar).
    Every node but 6 can loop for as long as needed, so only a step into 6 (then E) can end a string too short.
    """
    choices = set()
    for symbol, nxt in DIAGRAM[node].items():
        length = symbols_so_far + 1 + (1 if nxt == 6 else 0) + outside
        if nxt not in (6, 7) or length >= minimum:
            choices.add(symbol)
    return choices


def walk(inner):
    """The diagram's nodes along a Reber string (before each symbol), or None if the string is not grammatical."""
    node, nodes = 0, []
    for symbol in inner:
        if symbol not in DIAGRAM.get(node, {}):
            return None
        nodes.append(node)
        node = DIAGRAM[node][symbol]
    return nodes if node == 7 else None


@pytest.mark.parametrize("embed, minimum", [(True, 0), (True, 9), (True, 10), (True, 11), (True, 12),
                                            (False, 5), (False, 6), (False, 7)])
def test_reber_length_is_the_whole_strings_minimum(embed, minimum):
    """Every string grammatical and at least --length long, each choice the rule leaves open taken with equal
    probability, and strings of exactly that length drawn (from both branches, embedded)."""
    lang = ReberLanguage(embed=embed, length=minimum)
    rng = np.random.default_rng(minimum)
    shortest = set()
    symbols = "BTSXPVE"
    for _ in range(400):
        seq, prob, _ = lang.get_sequence(rng)
        text = lang.decode(seq)
        assert len(text) >= minimum, text
        if embed:
            assert text[0] == "B" and text[1] in "TP" and text[-2] == text[1] and text[-1] == "E", text
            inner, offset, outside = text[2:-2], 2, 4
        else:
            inner, offset, outside = text, 0, 0
        nodes = walk(inner)
        assert nodes is not None, text
        for i, node in enumerate(nodes[1:], start=1):  # the choice after inner symbol i-1
            row = prob[offset + i - 1]
            allowed = {symbols[j] for j in np.nonzero(row)[0]}
            assert allowed == open_choices(node, i, outside, minimum), (text, i)
            assert row[np.nonzero(row)[0]] == pytest.approx(1.0 / len(allowed))
        if len(text) == max(minimum, 9 if embed else 5):
            shortest.add(text[1])
    assert shortest == {"T", "P"}  # strings of the shortest length allowed come from both first branches
