"""The analysis of a trained network (lab/explain, seq_explain.py) against independent references.

The networks here are small SRNs and LSTMs with seeded random or briefly
trained weights: the analysis must describe whatever network it is given,
so every check compares its numbers with the torch model itself (run in
float64 on the same inputs), with finite differences, or with a map whose
fixed points are known in closed form.
"""
import json
import os
import re

import numpy as np
import pytest
import torch

from conftest import run_script
from lab.explain import counters, fixed_points
from lab.explain.analysis import explain
from lab.explain.maps import StateMaps
from lab.explain.sentences import beyond_sentences, counter_sentences, drift_sentences, explanation, path_sentences
from lab.recurrent.languages import make_language
from seq_models import LSTM_model, SRN_model, save_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def srn(seed, std=1.5, hid=2, symbols=2):
    torch.manual_seed(seed)
    model = SRN_model(symbols, hid, symbols)
    model.init_weights(std)
    return model.eval()


def lstm(seed, hid=3, symbols=3):
    torch.manual_seed(seed)
    return LSTM_model(symbols, hid, symbols).eval()


def torch_step(model, state, a):
    """One step of the torch model itself, in float64, from ``state`` on symbol ``a``."""
    m = type(model)(model.rnn.input_size if hasattr(model, "rnn") else model.lstm.input_size, model.num_hid,
                    model.out.out_features).double()
    m.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    x = torch.zeros(1, 1, m.out.out_features, dtype=torch.float64)
    x[0, 0, a] = 1.0
    s = torch.as_tensor(state, dtype=torch.float64)
    with torch.no_grad():
        if hasattr(m, "rnn"):
            _, h = m.rnn(x, s.view(1, 1, -1))
            return h.view(-1).numpy()
        hid = m.num_hid
        _, (h, c) = m.lstm(x, (s[:hid].view(1, 1, -1), s[hid:].view(1, 1, -1)))
        return np.concatenate([h.view(-1).numpy(), c.view(-1).numpy()])


def finite_jacobian(model, state, a, eps=1e-6):
    state = np.asarray(state, dtype=np.float64)
    cols = []
    for j in range(len(state)):
        d = np.zeros_like(state)
        d[j] = eps
        cols.append((torch_step(model, state + d, a) - torch_step(model, state - d, a)) / (2 * eps))
    return np.stack(cols, axis=1)


def test_the_known_fixed_points_of_tanh_2h():
    """h -> tanh(2h): fixed points 0 (repelling, slope 2) and +-0.957504 (attracting, slope 2(1 - h*^2))."""
    model = SRN_model(1, 1, 1)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.rnn.weight_hh_l0.fill_(2.0)
    maps = StateMaps(model)
    fixed, _ = fixed_points.find_points(maps, 0, np.linspace(-1, 1, 21)[:, None])
    found = sorted((p["state"][0], p["type"], abs(p["eigenvalues"][0])) for p in fixed)
    # x = tanh(2x) solved by bisection, independently of the code under test
    lo, hi = 0.5, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.tanh(2 * mid) > mid else (lo, mid)
    root = (lo + hi) / 2
    assert len(found) == 3
    assert found[0][0] == pytest.approx(-root, abs=1e-9) and found[0][1] == "attracting"
    assert found[1][0] == pytest.approx(0.0, abs=1e-9) and found[1][1] == "repelling" and found[1][2] == pytest.approx(2)
    assert found[2][2] == pytest.approx(2 * (1 - root**2), abs=1e-9)


def test_point_types_follow_their_definition():
    assert fixed_points.point_type(np.array([0.5, -0.2])) == "attracting, oscillating"
    assert fixed_points.point_type(np.array([1.5, 0.5])) == "saddle"
    assert fixed_points.point_type(np.array([1.5, 2.0])) == "repelling"
    assert fixed_points.point_type(np.array([0.5 + 0.3j, 0.5 - 0.3j])) == "attracting, oscillating"


@pytest.mark.parametrize("make,lang", [(lambda: srn(3), "anb2n"), (lambda: srn(7, std=2.0), "anbn"),
                                       (lambda: lstm(1), "anb2nc3n")])
def test_fixed_points_are_fixed_and_their_eigenvalues_match_finite_differences(make, lang):
    model = make()
    result = explain(model, make_language(lang))
    count = 0
    for a, m in enumerate(result["maps"]):
        for p in m["fixed"]:
            count += 1
            state = np.array(p["state"])
            assert np.linalg.norm(torch_step(model, state, a) - state) < 1e-8
            want = sorted(np.linalg.eigvals(finite_jacobian(model, state, a)), key=lambda z: (-abs(z), z.real))
            got = [complex(re_, im) for re_, im in p["eigenvalues"]]
            assert np.allclose(sorted(got, key=lambda z: (-abs(z), z.real)), want, atol=1e-5)
    assert count >= 1


def test_the_decision_line_agrees_with_the_network_on_a_grid():
    model = srn(4)
    result = explain(model, make_language("anb2n"))
    (w0, w1), c = result["boundaries"][0]["normal"], result["boundaries"][0]["offset"]
    grid = np.linspace(-1, 1, 200)
    cell = grid[1] - grid[0]
    hx, hy = np.meshgrid(grid, grid)
    h = torch.tensor(np.stack([hx.ravel(), hy.ravel()], 1), dtype=torch.float32)
    with torch.no_grad():
        network_a = (model.out(h).argmax(1) == 0).numpy()
    line_a = (w0 * hx.ravel() + w1 * hy.ravel() + c) > 0
    distance = np.abs(w0 * hx.ravel() + w1 * hy.ravel() + c) / np.hypot(w0, w1)
    disagree = network_a != line_a
    assert not np.any(disagree & (distance > cell))


@pytest.mark.parametrize("make,lang", [(lambda: srn(5), "anb2n"), (lambda: lstm(2), "anb2nc3n")])
def test_first_errors_beyond_the_range_are_the_networks_own(make, lang):
    model = make()
    language = make_language(lang)
    result = explain(model, language)
    for row in result["beyond"]:
        seq, _, _ = language.sequence_for([row["n"], 1])
        length = language.string_length(row["n"])
        x = torch.nn.functional.one_hot(torch.tensor(seq[:length]), language.num_symbols).float()[None]
        with torch.no_grad():
            predicted = model(x)[1][0].argmax(-1).numpy()
        truth = seq[1:length + 1]
        wrong = np.nonzero((seq[:length] != 0) & (predicted != truth))[0]
        if len(wrong) == 0:
            assert row["error"] is None
        else:
            assert row["error"]["position"] == wrong[0]
            assert row["error"]["predicted"] == language.symbols[predicted[wrong[0]]]
        assert row["right"] == pytest.approx(float((predicted == truth)[seq[:length] != 0].mean()))


def test_rates_reproduce_the_one_step_changes_within_their_spread():
    model = lstm(3)
    language = make_language("anb2nc3n")
    result = explain(model, language)
    for row in result["rates"]:
        phase = language.symbols.index(row["phase"])
        kind, _, unit = row["unit"].rpartition(" ")
        changes = []
        for n in range(1, language.length + 1):
            seq, _, _ = language.sequence_for([n, 1])
            x = torch.nn.functional.one_hot(torch.tensor(seq[:language.string_length(n)]), 3).float()[None]
            with torch.no_grad():
                trace = model.trace(x)
            values = trace["context" if kind == "cell unit" else "hidden"][0, :, int(unit)].numpy()
            where = np.nonzero(seq[:len(values)] == phase)[0]
            changes += list(np.diff(values[where]))
        assert np.mean(changes) == pytest.approx(row["mean_step"], abs=1e-5)
        assert abs(np.mean(changes) - row["rate"]) <= row["spread"] + 1e-9


def test_a_steady_line_is_fitted_exactly():
    """Values 0.3 + 0.5 k in every string, with an intercept of their own: rate 0.5, r^2 1, no spread."""
    from lab.explain.trajectories import StringRun

    runs = []
    for n, start in ((2, 0.1), (3, -1.0), (4, 2.0)):
        k = np.arange(1, n + 1)
        states = (start + 0.5 * k)[:, None]
        runs.append(StringRun(n, np.zeros(n), np.zeros(n), states, np.zeros(n), np.zeros(n, int), k))
    fit = counters.fit_rate(runs, 0, 0)
    assert fit["rate"] == pytest.approx(0.5) and fit["r2"] == pytest.approx(1.0) and fit["spread"] == pytest.approx(0)


def test_the_best_threshold_by_hand():
    values = np.array([0.9, 0.7, 0.5, 0.2, -0.1, -0.4])
    switch = np.array([False, False, False, False, True, True])
    acc, gap, threshold, direction = counters.best_threshold(values, switch)
    assert (acc, direction) == (1.0, "below")
    assert threshold == pytest.approx(0.05) and gap == pytest.approx(0.3)


NUMBER = re.compile(r"-?\d+\.\d+")


def sentence_numbers(result):
    return [float(x) for s in explanation(result) for x in NUMBER.findall(s)]


def record_values(result):
    """Every number of the analysis (but the trajectories), rounded as the sentences print them."""
    out = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k != "trajectories":
                    walk(x)
        elif isinstance(v, list):
            if len(v) == 2 and all(isinstance(x, float) for x in v):  # an eigenvalue [re, im]: its size is printed
                out.append(float(np.hypot(*v)))
            for x in v:
                walk(x)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))

    walk(result)
    return out


def in_record(value, values):
    """Whether a printed number is some record value (or its size, or 1/value) rounded to 0..3 decimals."""
    for v in values:
        for d in range(4):
            for candidate in (v, abs(v), 1 / v if v else None):
                if candidate is not None and abs(value - round(candidate, d)) < 10 ** -(d + 1):
                    return True
    return False


@pytest.fixture(scope="module")
def trained_lstm(tmp_path_factory):
    """An LSTM-3 trained on a^n b^2n c^3n for 10,000 sequences by seq_train.py (it learns in that time)."""
    from seq_models import load_checkpoint

    out = tmp_path_factory.mktemp("lstm")
    done = run_script(["seq_train.py", "--lang", "anb2nc3n", "--model", "lstm", "--hid", "3",
                           "--epoch", "10", "--out_path", str(out), "--plot_path", str(out / "plot")])
    assert done.returncode == 0, done.stderr
    return load_checkpoint(str(out / "anb2nc3n_lstm3_10.pth"))[0]


@pytest.mark.parametrize("which", ["srn", "lstm", "trained"])
def test_every_number_in_the_text_is_in_the_record(which, request):
    make, lang = {"srn": (lambda: srn(5), "anb2n"), "lstm": (lambda: lstm(2), "anb2nc3n"),
                  "trained": (lambda: request.getfixturevalue("trained_lstm"), "anb2nc3n")}[which]
    result = json.loads(json.dumps(explain(make(), make_language(lang))))
    values = record_values(result)
    sums = [m * r["rate"] for r in result["rates"] for m in [1, *result["mult"]]]  # "raise it by 1.92n"
    together = [abs(a) + abs(b) for a in sums for b in sums]  # "n A's and 2n B's ..., together 2.90n"
    sums += together + [abs(x - abs(b)) for x in [*map(abs, sums), *together] for b in sums]  # "to within 0.10n"
    visited = [max(abs(v) for t in result["trajectories"] for s in t["states"] for v in s)]
    numbers = sentence_numbers(result)
    assert numbers
    for x in numbers:
        assert in_record(x, values + sums + visited), x


def test_a_counting_cell_is_stated_with_its_own_rates(trained_lstm):
    """The trained LSTM: each "rises/falls by X per S (r^2 Y)" is that unit's rate and fit in that phase."""
    result = explain(trained_lstm, make_language("anb2nc3n"))
    rates = {(r["unit"], r["phase"]): r for r in result["rates"]}
    stated = 0
    for sentence in explanation(result):
        found = re.match(r"(Cell unit \d) ", sentence)
        if not found:
            continue
        unit = found.group(1).lower()
        for verb, size, phase, r2 in re.findall(r"(rises|falls) by (\d+\.\d+) per ([ABC]) \(r\^2 (\d+\.\d+)\)", sentence):
            row = rates[(unit, phase)]
            assert (verb == "rises") == (row["rate"] > 0)
            assert float(size) == round(abs(row["rate"]), 2) and float(r2) == round(row["r2"], 2)
            assert row["r2"] >= 0.9 and abs(row["rate"]) >= 0.05
            stated += 1
    assert stated >= 2


@pytest.mark.parametrize("fall, ends", [(-0.67, "so it counts up over the 2n B's and back down over the 3n C's to "
                                                "within 0.09n by the rates fitted over n = 1..4."),
                                         (-0.50, "which do not balance: they differ by 0.42n by the rates fitted "
                                                 "over n = 1..4.")])
def test_a_counter_states_its_imbalance_per_n(fall, ends):
    """+0.96 per B and -0.67 per C on a^n b^2n c^3n: 2n B's raise it 1.92n, 3n C's lower it 2.01n (by hand: 0.09n
    apart, within 15%); with -0.50 per C, 1.50n: 0.42n apart, beyond 15%."""
    result = {"length": 4, "units": ["cell unit 0"], "symbols": ["A", "B", "C"], "mult": [2, 3],
              "rates": [{"unit": "cell unit 0", "phase": "B", "rate": 0.96, "r2": 1.0, "verdict": "counts up"},
                        {"unit": "cell unit 0", "phase": "C", "rate": fall, "r2": 1.0, "verdict": "counts down"}]}
    (sentence,) = counter_sentences(result)
    assert sentence.endswith(ends), sentence
    assert "2n B's raise it by 1.92n and 3n C's lower it by " + ("2.01n" if fall == -0.67 else "1.50n") in sentence


def test_a_count_over_two_phases_is_balanced_against_the_later_one():
    """-0.95 per A and -0.98 per B, +0.97 per C: n + 2n = 0.95n + 1.96n = 2.91n down against 3n x 0.97 = 2.91n up
    (by hand), where neither phase alone balances the C's (0.95n or 1.96n against 2.91n)."""
    rows = [("A", -0.95), ("B", -0.98), ("C", 0.97)]
    result = {"length": 4, "units": ["cell unit 1"], "symbols": ["A", "B", "C"], "mult": [2, 3],
              "rates": [{"unit": "cell unit 1", "phase": p, "rate": r, "r2": 1.0, "verdict": "counts"} for p, r in rows]}
    (sentence,) = counter_sentences(result)
    assert ("n A's lower it by 0.95n and 2n B's by 1.96n, together 2.91n, and 3n C's raise it by 2.91n, so it counts "
            "down over the n A's and 2n B's and back up over the 3n C's with no gap to two decimals.") in sentence, sentence


def test_a_balance_is_judged_against_the_larger_count():
    """2n x 0.50 = 1.00n up, 3n x 0.28667 = 0.86n down: 0.14n apart, within 15% of the larger (0.15) though not of
    the smaller (0.129), so balanced (by hand)."""
    result = {"length": 4, "units": ["cell unit 0"], "symbols": ["A", "B", "C"], "mult": [2, 3],
              "rates": [{"unit": "cell unit 0", "phase": "B", "rate": 0.5, "r2": 1.0, "verdict": "counts up"},
                        {"unit": "cell unit 0", "phase": "C", "rate": -0.86 / 3, "r2": 1.0, "verdict": "counts down"}]}
    (sentence,) = counter_sentences(result)
    assert "back down over the 3n C's to within 0.14n" in sentence, sentence


def test_two_phases_together_are_told_with_their_sum():
    """-0.95 per A and -0.90 per B, +0.90 per C: 0.95n + 1.80n = 2.75n down against 2.70n up (by hand)."""
    rows = [("A", -0.95), ("B", -0.90), ("C", 0.90)]
    result = {"length": 4, "units": ["cell unit 1"], "symbols": ["A", "B", "C"], "mult": [2, 3],
              "rates": [{"unit": "cell unit 1", "phase": p, "rate": r, "r2": 1.0, "verdict": "counts"} for p, r in rows]}
    (sentence,) = counter_sentences(result)
    assert ("n A's lower it by 0.95n and 2n B's by 1.80n, together 2.75n, and 3n C's raise it by 2.70n, so it counts "
            "down over the n A's and 2n B's and back up over the 3n C's to within 0.05n") in sentence, sentence


def test_the_text_of_two_networks_differs_where_their_numbers_do():
    language = make_language("anb2n")
    one, two = explain(srn(11), language), explain(srn(12), language)
    text_one, text_two = explanation(one), explanation(two)
    assert text_one != text_two
    line = [s for s in text_one if s.startswith("The output switches")][0]
    w0 = f"{one['boundaries'][0]['normal'][0]:.2f}"
    assert w0 in line and w0 not in [s for s in text_two if s.startswith("The output switches")][0]


def test_seq_explain_end_to_end(tmp_path):
    """The command on a saved checkpoint: its record holds the analysis and sentences it printed."""
    model = srn(5)
    config = {"model": "srn", "num_input": 2, "num_hid": 2, "num_out": 2, "lang": "anb2n", "embed": False,
              "length": 4}
    save_checkpoint(str(tmp_path / "anb2n_srn2_10.pth"), model, config, seen=10000)
    done = run_script(["seq_explain.py", "--lang", "anb2n", "--out_path", str(tmp_path),
                           "--plot_path", str(tmp_path / "plot")])
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "plot" / "anb2n_srn2_explain.json").read_text())
    for sentence in record["results"]["sentences"]:
        assert sentence in done.stdout
    for name in ("explain", "flow", "space"):
        assert (tmp_path / "plot" / f"anb2n_srn2_{name}.jpg").stat().st_size > 10000
    assert record["results"]["analysis"]["boundaries"] == json.loads(json.dumps(explain(model, make_language("anb2n"))))["boundaries"]


def test_seq_explain_refuses_a_language_it_cannot_explain(tmp_path):
    model = srn(1, hid=4, symbols=7)
    config = {"model": "srn", "num_input": 7, "num_hid": 4, "num_out": 7, "lang": "reber", "embed": False,
              "length": 5}
    save_checkpoint(str(tmp_path / "reber_srn4_10.pth"), model, config, seen=10000)
    done = run_script(["seq_explain.py", "--lang", "reber", "--out_path", str(tmp_path),
                           "--plot_path", str(tmp_path / "plot")])
    assert done.returncode == 1 and "counting languages" in done.stderr and "Traceback" not in done.stderr


def test_seq_explain_flags_pick_what_their_help_says(tmp_path):
    """--epoch, --checkpoint, --hid, --model, --length, --beyond, --seed and --embed, through the command and its
    record."""
    config = {"model": "srn", "num_input": 2, "num_hid": 2, "num_out": 2, "lang": "anb2n", "embed": False,
              "length": 4}
    save_checkpoint(str(tmp_path / "anb2n_srn2_10.pth"), srn(1), config, seen=10000)
    save_checkpoint(str(tmp_path / "anb2n_srn2_20.pth"), srn(2), config, seen=20000)
    save_checkpoint(str(tmp_path / "anb2nc3n_lstm3_10.pth"), lstm(3),
                    {**config, "model": "lstm", "num_input": 3, "num_hid": 3, "num_out": 3, "lang": "anb2nc3n"},
                    seen=10000)

    def run(*flags):
        done = run_script(["seq_explain.py", "--out_path", str(tmp_path), "--plot_path",
                               str(tmp_path / "plot"), *flags])
        name = "anb2nc3n_lstm3" if "lstm" in flags else "anb2n_srn2"
        path = tmp_path / "plot" / f"{name}_explain.json"
        return done, (json.loads(path.read_text()) if done.returncode == 0 else None)

    done, latest = run("--lang", "anb2n")
    assert latest["results"]["checkpoint"].endswith("anb2n_srn2_20.pth")  # the latest by default
    done, first = run("--lang", "anb2n", "--epoch", "10")
    assert first["results"]["checkpoint"].endswith("anb2n_srn2_10.pth")
    assert first["results"]["analysis"]["boundaries"] != latest["results"]["analysis"]["boundaries"]
    done, chosen = run("--checkpoint", str(tmp_path / "anb2n_srn2_10.pth"))
    assert chosen["results"]["analysis"]["boundaries"] == first["results"]["analysis"]["boundaries"]
    done, short = run("--lang", "anb2n", "--length", "3", "--seed", "5")
    assert short["results"]["analysis"]["length"] == 3 and short["settings"]["seed"] == 5
    assert [t["n"] for t in short["results"]["analysis"]["trajectories"]] == list(range(1, 7))
    done, far = run("--lang", "anb2n", "--length", "3", "--beyond", "5")  # one string of each n up to 5 x 3
    assert [t["n"] for t in far["results"]["analysis"]["trajectories"]] == list(range(1, 16))
    assert [row["n"] for row in far["results"]["analysis"]["runs"][0]["runs"]] == list(range(1, 16))
    assert [d["ns"] for d in far["results"]["analysis"]["drifts"]] == [list(range(1, 16))]
    done, _ = run("--lang", "anb2n", "--length", "20", "--beyond", "5")  # 100 strings: past the record's 80
    assert done.returncode == 1 and "--length must be at most 16 for seq_explain.py, got 20" in done.stderr
    done, _ = run("--lang", "anb2n", "--beyond", "1")
    assert done.returncode == 2 and "argument --beyond: must be at least 2, got 1" in done.stderr
    done, lstm_record = run("--lang", "anb2nc3n", "--model", "lstm")
    assert lstm_record["results"]["analysis"]["model"] == "lstm" and "gates" in lstm_record["results"]["analysis"]
    done, _ = run("--lang", "anb2n", "--hid", "3")
    assert done.returncode == 1 and "anb2n_srn2_20.pth" in done.stderr and "Traceback" not in done.stderr
    done, _ = run("--lang", "anb2n", "--embed")
    assert done.returncode != 0 and "--embed" in done.stderr and "Traceback" not in done.stderr


def test_a_phase_end_drift_is_the_slope_of_the_end_values_over_n():
    """End values of the deciding unit at the last B: 0.0, 0.1, 0.2, 0.6 for n = 1..4 (slope by hand: cov 0.95 / var 5
    = 0.19) and 0.3 n past it (slope 0.3); the unit switches below its threshold, so rising values move away from
    that side."""
    class Run:  # what end_drift reads of a StringRun: n, each input's phase, the states
        def __init__(self, n):
            self.n = n
            self.phase = np.array([0] * n + [1] * (2 * n))
            self.states = np.zeros((3 * n, 2))
            self.states[-1, 1] = [0.0, 0.1, 0.2, 0.6][n - 1] if n <= 4 else 0.3 * n
            self.states[-2, 1] = 99.0  # not the phase's last symbol: never read
    decision = {"phase": "B", "unit": "hidden unit 1", "index": 1, "threshold": 0.2, "direction": "below"}
    drift = counters.end_drift([Run(n) for n in (7, 1, 2, 3, 4, 5, 6, 8)], decision, 1, 4)
    assert drift["ns"] == list(range(1, 9)) and drift["values"][:2] == pytest.approx([0.0, 0.1])
    assert drift["in_range"] == pytest.approx(0.19) and drift["beyond"] == pytest.approx(0.3)
    assert drift["towards_in_range"] is False and drift["towards_beyond"] is False
    alone = counters.end_drift([Run(n) for n in (1, 2, 3, 4, 5)], {**decision, "direction": "above"}, 1, 4)
    assert alone["beyond"] is None and alone["towards_in_range"] is True  # one n past the range: no slope


@pytest.mark.parametrize("in_range, beyond, towards, ends", [
    (0.004, 0.081, True, "by 0.00 per n over n = 1..4 (steady: under 0.05 per n) and by +0.08 per n over n = 5..16, "
                         "towards its threshold -0.32."),
    (-0.06, -0.002, False, "by -0.06 per n over n = 1..4 (drifting, away from its threshold -0.32) and by 0.00 per "
                           "n over n = 5..16.")])
def test_a_phase_end_drift_is_told_with_its_sign_and_direction(in_range, beyond, towards, ends):
    result = {"length": 4, "drifts": [{"phase": "B", "unit": "cell unit 0", "threshold": -0.32, "direction": "above",
                                       "ns": list(range(1, 17)), "in_range": in_range, "beyond": beyond,
                                       "towards_in_range": towards, "towards_beyond": towards}]}
    (sentence,) = drift_sentences(result)
    assert sentence == ("At the last B, where the network decides what follows, cell unit 0 ends at values that move "
                        + ends)


def test_wholly_right_strings_past_the_range_are_told_together_and_a_wrong_one_alone():
    """n = 5 right, 6 wrong, 7 and 8 right, trained on n <= 4: "n = 5", the error of n = 6, then "n = 7..8"."""
    error = {"past": True, "kind": "too early", "unit": "cell unit 0", "value": 0.4, "threshold": 0.3,
             "unit_agrees": True, "saturated": False}
    rows = [{"n": n, "right": 1.0, "wrong": [], "error": None} for n in (1, 2, 3, 4, 5)]
    rows += [{"n": 6, "right": 0.9, "wrong": [["B", 11, "C", "B"]], "error": error}]
    rows += [{"n": n, "right": 1.0, "wrong": [], "error": None} for n in (7, 8)]
    said = beyond_sentences({"length": 4, "beyond": rows, "common_stop": None})
    assert said[0] == "n = 5: every deterministic symbol right." and said[2] == "n = 7..8: every deterministic symbol right."
    assert said[1].startswith("n = 6: 90% of the deterministic symbols right; wrong after B 11 (C for B). The first")
    assert len(said) == 3


def test_an_oscillating_solution_without_an_expanding_point_is_told_it_has_no_rates_to_match():
    """The B slow point's eigenvalues 1.000 and -0.995: none outside the unit circle, so no rate-matching product;
    with a B point of -1.98 (outside) the product is told instead."""
    step = {"value": 0.1, "eigenvalues": [[1.0, 0.0], [-0.99, 0.0]], "step": 0.1}
    slow = {"state": [0.1, -0.1], "distance": 0.05, "speed": 0.03, "eigenvalues": [[1.0, 0.0], [-0.995, 0.0]]}
    phases = [{"phase": "A", "index": 1, "median_step": 0.07, "steps": [step], "slow": slow},
              {"phase": "B", "index": 1, "median_step": 0.09, "steps": [step], "slow": slow}]
    result = {"units": ["hidden unit 0", "hidden unit 1"],
              "path": {"n": 4, "phases": phases, "kind": "oscillating", "rate_matching": None}}
    told = path_sentences(result)[-1]
    assert told == ("The solution oscillates: hidden unit 1 changes direction at most B's, flipping around a point. "
                    "It is not the saddle of the rate-matching picture: the B map's slow point has no eigenvalue "
                    "outside the unit circle (the largest is 1.000), so no expansion and contraction are matched "
                    "there.")
    result["path"]["rate_matching"] = {"lambda_a": 0.105, "lambda_b": 1.98, "product": 0.41, "per_a": 3.3, "mult": 2}
    assert "Rate matching: |lambda_A| |lambda_B|^2 = 0.105 x 1.980^2 = 0.41" in path_sentences(result)[-1]
    assert "not the saddle" not in path_sentences(result)[-1]
