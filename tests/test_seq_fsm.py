"""Tests for the machine extraction (lab/machines, seq_fsm.py).

Synthetic trajectories with known states are recovered exactly; a small SRN
trained here yields a machine that predicts every deterministic symbol;
files are written without a display; bad input gives a message, not a
traceback.
"""
import json
import os

import numpy as np
import pytest
import torch

from lab.machines import extract as fx
from lab.machines.text import machine_dot, machine_table
from lab.machines.validation import choose_machine, fresh, grammar_agreement, validate
from lab.recurrent.settings import MachineSettings
import seq_fsm
import seq_train
from anb2n import AnbnLanguage
from reber import ReberLanguage
from lab.common.errors import run_main
from lab.recurrent.tracing import gather
from seq_models import build_model, save_checkpoint
from conftest import is_jpeg, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_kmeans_finds_separated_clusters_and_repeats_itself():
    rng = np.random.default_rng(1)
    true = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    labels = rng.integers(0, 4, 400)
    points = true[labels] + rng.normal(0, 0.05, (400, 2))
    centers, found, _ = fx.kmeans(points, 4, seed=3)
    table, _, _ = fx.contingency(found, labels)
    assert (np.count_nonzero(table, axis=1) == 1).all() and (np.count_nonzero(table, axis=0) == 1).all()
    again, _, _ = fx.kmeans(points, 4, seed=3)
    assert np.array_equal(centers, again)


def test_convex_hull_keeps_only_the_corners():
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    inside = [(1, 1), (0.5, 1.5), (1, 0), (2, 1)]  # the last two lie on edges
    hull = fx.convex_hull(np.array(square + inside, dtype=float))
    assert sorted(map(tuple, hull.tolist())) == sorted(map(tuple, np.array(square, float).tolist()))
    x, y = hull[:, 0], hull[:, 1]
    assert 0.5 * (x * np.roll(y, -1) - np.roll(x, -1) * y).sum() > 0  # counter-clockwise
    assert len(fx.convex_hull(np.array([[1.0, 1.0], [1.0, 1.0]]))) == 1


def test_agreement_and_one_to_one_share():
    extracted = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    truth = np.array([5, 5, 5, 6, 6, 7, 7, 7, 7, 7])
    agree = fx.agreement(extracted, truth)
    assert agree["purity"] == 1.0
    assert agree["inverse_purity"] == pytest.approx(0.9)  # true state 7 is split 4 + 1
    assert agree["one_to_one"] == pytest.approx(0.9)
    assert fx.one_to_one_share(np.array([[1, 9], [8, 2]])) == pytest.approx(17 / 20)


def synthetic(lang, seed, count, spots):
    """Trajectories of a counting language whose 'network state' is a fixed spot per true state, plus noise.

    The outputs are the true probabilities, so a perfect machine exists.
    """
    rng = np.random.default_rng(seed)
    samples = [lang.get_sequence(rng) for _ in range(count)]
    state = np.concatenate([s[2] for s in samples])
    first = np.concatenate([np.arange(len(s[2])) == 0 for s in samples])
    prob = np.concatenate([s[1] for s in samples])
    return {"features": spots[state] + rng.normal(0, 0.01, (len(state), 2)), "start": spots[0],
            "symbol": np.concatenate([s[0][:-1] for s in samples]),
            "target": np.concatenate([s[0][1:] for s in samples]),
            "first": first, "prob": prob, "output": prob, "state": state}


def test_synthetic_trajectories_give_back_the_true_machine():
    lang = AnbnLanguage((2,), length=3)
    spots = np.array([[i % 4, i // 4] for i in range(12)], dtype=float) * 1.0  # state 0: the start
    fit, select = synthetic(lang, 0, 300, spots), synthetic(lang, 1, 300, spots)
    settings = MachineSettings(max_states=30, seed=0, tv=0.1)
    machine, labels, result, met = choose_machine(fit, select, lang, settings, log=lambda *a: None)
    assert met and result["machine_right"] == result["det"]
    true_states = np.unique(fit["state"])
    assert machine.num_states == len(true_states) + 1  # the start is a state of its own
    # the clusters are exactly the true states ...
    table, _, _ = fx.contingency(labels, fit["state"])
    assert (np.count_nonzero(table, axis=1) == 1).all() and (np.count_nonzero(table, axis=0) == 1).all()
    # ... and the transitions are exactly the language's (both machines numbered canonically)
    index = {s: i + 1 for i, s in enumerate(true_states)}
    truth = fx.build_machine(np.array([index[s] for s in fit["state"]]), 0, fit["symbol"], fit["first"],
                             fit["output"], machine.num_states, lang.num_symbols, np.zeros((machine.num_states, 2)))
    assert np.array_equal(machine.next_state, truth.next_state)
    assert (machine.counts.sum(-1).max(-1) == machine.counts.max(-1).max(-1)).all()  # every transition unanimous
    assert np.allclose(machine.predict, truth.predict)
    dot = machine_dot(machine, lang.symbols, "synthetic")
    assert dot.startswith('digraph "synthetic"') and 'start -> s0;' in dot and 's0 -> s1 [label="A (300/300)"];' in dot
    table_text = machine_table(machine, lang.symbols)
    assert table_text.splitlines()[1].split()[:4] == ["0*", "0", "300", "-"]
    # too many clusters split true states; merging equivalent states gives the true machine back
    split, _ = fx.extract(fit["features"], fit["start"], fit["symbol"], fit["first"], fit["output"],
                          len(true_states) + 4, lang.num_symbols)
    merged, block = fx.minimize(split)
    assert split.num_states == machine.num_states + 4 and merged.num_states == machine.num_states
    assert np.array_equal(merged.next_state, truth.next_state) and block.max() == merged.num_states - 1


def test_machine_stuck_beyond_what_it_saw():
    """a^n b^n with n <= 2: four states after inputs; a third A was never seen, so the machine stops there."""
    lang = AnbnLanguage((1,), length=2)
    spots = np.array([[i, -i] for i in range(5)], dtype=float)
    fit = synthetic(lang, 0, 100, spots)
    machine, _ = fx.extract(fit["features"], fit["start"], fit["symbol"], fit["first"], fit["output"], 4,
                            lang.num_symbols)
    assert machine.num_states == 5
    seq, prob, _ = lang.sequence_for([3, 1])
    states = fx.run_machine(machine, seq[:-1], np.arange(len(seq) - 1) == 0)
    assert (states[:2] >= 0).all() and (states[2:] == -1).all()
    result = fx.score(machine, states, seq[1:], prob, prob)
    assert result["stuck"] == len(seq) - 3 and result["machine_right"] == 0 and result["net_right"] == result["det"]


def test_beyond_range_counts_only_what_the_language_makes_certain():
    """Beyond the training range the generator calls B certain after the n-th A; a^n b^2n itself does not."""
    lang = AnbnLanguage((2,), length=4)
    seq, prob, _ = lang.sequence_for([5, 6])
    inputs, target = seq[:-1], seq[1:]
    by_generator = prob[np.arange(len(target)), target] > fx.DET
    keep = lang.certain_given_n(inputs)
    assert by_generator[4] and by_generator[5 + 10 + 5] and not keep[4] and not keep[20]  # after the 5th / 6th A
    assert (by_generator & keep).sum() == (inputs != 0).sum() == by_generator.sum() - 2
    # seq_fsm's validation applies the same rule to the beyond set
    torch.manual_seed(0)
    model = build_model(dict(model="srn", num_input=2, num_hid=2, num_out=2, lang="anb2n", embed=False, length=4))
    fit = gather(model, lang, fresh(lang, 0, 0, 20))
    machine, _ = fx.extract(fit["features"], fit["start"], fit["symbol"], fit["first"], fit["output"], 3, 2)
    lines = []
    _, rows = validate(machine, model, lang, MachineSettings(validate=20, seed=0), log=lines.append)
    rng = np.random.default_rng([0, 3])  # the beyond set's stream (purpose 3)
    ns = [rng.integers(5, 9, size=lang.num_strings) for _ in range(20)]
    row = next(line for line in lines if line.startswith("beyond (n 5..8)"))
    assert int(row.split()[3]) == sum(2 * int(n.sum()) - 1 for n in ns), row  # the B's, less each last one
    row = next(line for line in lines if line.startswith("  strings with n = 5"))
    fives = sum(2 * 5 * int((n == 5).sum()) - (n[-1] == 5) for n in ns)
    assert int(row.split()[5]) == fives, row
    assert len(rows) == 2 * (1 + 4)  # within and beyond, each whole and per n (1..4, 5..8): the table's rows


def test_reber_states_line_up_with_the_grammar(capsys):
    lang = ReberLanguage()
    spots = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 6, 7)])  # start and nodes 1..6
    fit, select = synthetic(lang, 0, 300, spots), synthetic(lang, 1, 300, spots)
    settings = MachineSettings(max_states=20, seed=0, tv=0.1)
    machine, _, _, met = choose_machine(fit, select, lang, settings, log=lambda *a: None)
    assert met and machine.num_states == 7
    grammar_agreement([("extracted machine", machine)], synthetic(lang, 2, 200, spots))
    out = capsys.readouterr().out
    assert ("extracted machine (7 states): purity 100.00%, inverse purity 100.00%, best one-to-one mapping "
            "100.00%, transitions the grammar makes too 100.00%") in out


def test_small_trained_network_gives_a_correct_machine_and_files(tmp_path, capsys, no_display):
    net = tmp_path / "net"
    status = seq_train.main(["--lang", "anb2n", "--length", "2", "--hid", "2", "--epoch", "5", "--optim", "adam",
                             "--lr", "0.01", "--batch", "10", "--candidates", "1", "--init", "0.5",
                             "--out_path", str(net), "--plot_path", str(tmp_path / "train_plots")])
    trained = capsys.readouterr().out
    assert status == 0 and "verdict: learned" in trained, trained[-400:]
    plots = tmp_path / "plots"
    status = seq_fsm.main(["--lang", "anb2n", "--epoch", "5", "--out_path", str(net), "--plot-dir", str(plots),
                           "--sequences", "200", "--validate", "200"])
    out = capsys.readouterr().out
    assert status == 0
    row = next(line for line in out.splitlines() if line.startswith("within (n 1..2)"))
    det, machine_right, net_right, match, stuck, nearest = row.split()[3:]
    assert int(det) > 1000 and machine_right == net_right == match == nearest == "100.00%" and stuck == "0", row
    assert "<- criterion met" in out and "number of states: " in out
    names = sorted(os.listdir(plots))
    assert names == ["anb2n_srn2_fsm.dot", "anb2n_srn2_fsm.jpg", "anb2n_srn2_fsm.json", "anb2n_srn2_fsm_graph.jpg"]
    assert is_jpeg(plots / "anb2n_srn2_fsm.jpg") and is_jpeg(plots / "anb2n_srn2_fsm_graph.jpg")
    assert (plots / "anb2n_srn2_fsm.dot").read_text().startswith('digraph "anb2n_srn2"')
    # the merged machine is shown, named in the language's terms (n <= 2: start, A1, A2, b3..b0); the record has both
    results = json.loads((plots / "anb2n_srn2_fsm.json").read_text())["results"]
    shown, raw = results["machine"], results["raw_machine"]
    assert results["shown"] == "merged" and len(shown["states"]) == results["merged"]["states"] == 7
    assert sorted(s["name"] for s in shown["states"]) == ["A1", "A2", "b0", "b1", "b2", "b3", "start"]
    assert len(raw["states"]) >= 7 and "shown below and drawn: the merged machine, 7 states" in out
    assert 'label="A1\\n' in (plots / "anb2n_srn2_fsm.dot").read_text()
    status = seq_fsm.main(["--lang", "anb2n", "--epoch", "5", "--out_path", str(net),
                           "--plot-dir", str(tmp_path / "raw"), "--sequences", "200", "--validate", "200", "--raw"])
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "raw" / "anb2n_srn2_fsm.json").read_text())["results"]
    assert status == 0 and results["shown"] == "raw" and results["machine"] == results["raw_machine"] == raw
    assert "shown below and drawn: the extracted machine, before merging (--raw)" in out


def test_lstm_context_plot_and_summary(tmp_path, capsys, no_display):
    config = dict(lang="anb2nc3n", embed=False, length=3, model="lstm", num_input=3, num_hid=3, num_out=3)
    torch.manual_seed(0)
    path = tmp_path / "anb2nc3n_lstm3_7.pth"
    save_checkpoint(path, build_model(config), config, seen=7000)
    status = seq_fsm.main(["--checkpoint", str(path), "--plot_path", str(tmp_path / "plot"), "--states", "4",
                           "--sequences", "30", "--validate", "30"])
    out = capsys.readouterr().out
    assert status == 0
    assert "counting (steady:" in out and "per C" in out
    names = sorted(os.listdir(tmp_path / "plot"))
    assert names == [f"anb2nc3n_lstm3_{s}" for s in ("context.jpg", "fsm.dot", "fsm.jpg", "fsm.json", "fsm_graph.jpg")]
    assert all(is_jpeg(tmp_path / "plot" / n) for n in names if n.endswith(".jpg"))


@pytest.mark.parametrize("argv, message", [
    (["--embed"], "--embed applies to --lang reber only"),
    (["--epoch", "3"], "no checkpoint"),
])
def test_bad_input_gives_a_message(tmp_path, capsys, argv, message):
    status = run_main(seq_fsm.main, argv + ["--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    err = capsys.readouterr().err
    assert status == 1 and message in err, err
    assert not (tmp_path / "plot").exists()


@pytest.mark.parametrize("argv, message", [
    (["--states", "1"], "argument --states: must be at least 2, got 1"),
    (["--max_states", "1"], "argument --max_states: must be at least 2, got 1"),
    (["--tv", "0"], "argument --tv: must be above 0, got 0"),
    (["--tv", "1.5"], "argument --tv: must be at most 1, got 1.5"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
])
def test_numbers_out_of_range_are_refused_by_argparse(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        seq_fsm.main(argv + ["--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "plot").exists()


@pytest.mark.parametrize("flag", ["--sequences", "--validate", "--threads", "--epoch", "--hid"])
def test_counts_must_be_positive(tmp_path, capsys, flag):
    with pytest.raises(SystemExit) as exit_:
        seq_fsm.main([flag, "0", "--out_path", str(tmp_path)])
    assert exit_.value.code == 2 and f"argument {flag}: must be above 0, got 0" in capsys.readouterr().err


def test_mismatched_checkpoint_lists_the_existing_ones(tmp_path, capsys):
    """seq_fsm finds checkpoints as seq_plot does (lab.recurrent.series.resolve_checkpoint), message included."""
    config = dict(lang="anb2n", embed=False, length=4, model="srn", num_input=2, num_hid=3, num_out=2)
    save_checkpoint(tmp_path / "anb2n_srn2_20.pth", build_model(config), config)
    status = run_main(seq_fsm.main, ["--out_path", str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    err = capsys.readouterr().err
    assert status == 1 and "holds a srn with 3 hidden units" in err and f"checkpoints in {tmp_path}/" in err


def test_broken_checkpoint_and_command_line_exit_cleanly(tmp_path):
    junk = tmp_path / "anb2n_srn2_1.pth"
    junk.write_text("not a checkpoint")
    for argv, code, text in ((["--checkpoint", str(junk)], 1, "not a readable checkpoint"),
                             (["--out_path", str(tmp_path / "none")], 1, "no checkpoint"),
                             (["--states", "many"], 2, "'many' is not a whole number")):
        proc = run_script(["seq_fsm.py", *argv])
        assert proc.returncode == code and text in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
