"""The counting recipe (lab/recurrent/recipe.py): its initialisation, loss mask, validation and range, checked
against hand-written references and torch's own LSTM step."""
import json
import os
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import seq_models
from anb2n import AnbnLanguage
from conftest import run_script
from lab.recurrent import recipe
from lab.recurrent.languages import collate, make_language
from lab.recurrent.settings import TrainSettings
from seq_models import Population


def test_gate_biases_make_an_integrator_in_torchs_own_lstm_step():
    """With zero weights, torch's LSTM step gives c1 = sigmoid(forget) c0 + sigmoid(input) tanh(g): the
    recipe's values must land on the forget and input gates (the g bias set by hand, rows 2h..3h)."""
    hid = 3
    lstm = nn.LSTM(2, hid, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
    recipe.init_integrators(lstm, hid)
    with torch.no_grad():
        lstm.bias_hh_l0[2 * hid:3 * hid] = 0.5  # the cell input g
    c0 = torch.tensor([[[0.3, -1.0, 2.0]]])
    _, (_, c1) = lstm(torch.zeros(1, 1, 2), (torch.zeros(1, 1, hid), c0))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    expected = sig(recipe.FORGET_BIAS) * c0.numpy() + sig(recipe.INPUT_BIAS) * np.tanh(0.5)
    np.testing.assert_allclose(c1.detach().numpy(), expected, rtol=1e-6)


def test_every_candidate_gets_the_stated_biases_and_the_other_gates_keep_theirs():
    hid, size = 3, 4
    pop = Population("lstm", 3, hid, 3, size)
    before = (pop.rnn.bias_ih_l0 + pop.rnn.bias_hh_l0).detach().clone()
    recipe.init_integrators(pop.rnn, hid, size)
    for c in range(size):
        bias = (lambda m: m.lstm.bias_ih_l0 + m.lstm.bias_hh_l0)(pop.candidate(c)).detach()
        assert torch.all(bias[0:hid] == recipe.INPUT_BIAS)
        assert torch.all(bias[hid:2 * hid] == recipe.FORGET_BIAS)
    total = hid * size
    assert torch.equal((pop.rnn.bias_ih_l0 + pop.rnn.bias_hh_l0)[2 * total:].detach(), before[2 * total:])


def test_the_loss_mask_covers_exactly_the_deterministic_positions_of_a_hand_written_string():
    # a^2 b^4 then a^1 b^2: inputs AABBBBAB (the last B only a target); what comes next is certain
    # after every B (given n), never after an A
    seq = "AABBBBABB"
    inputs = torch.tensor([[0 if s == "A" else 1 for s in seq[:-1]]])
    mask = recipe.loss_mask(inputs, torch.ones_like(inputs, dtype=torch.bool))
    assert mask[0].tolist() == [False, False, True, True, True, True, False, True]
    padded = recipe.loss_mask(inputs, torch.tensor([[True] * 5 + [False] * 3]))
    assert padded[0].tolist() == [False, False, True, True, True, False, False, False]


def test_phase_ends_of_hand_written_strings():
    # anb2nc3n with n = 1, 2: ABBCCC (positions 0..5) then AABBBBCCCCCC (6..17)
    lang = AnbnLanguage((2, 3), length=4)
    ends = recipe.phase_ends(lang, [1, 2])
    assert ends == {1: ([2, 11], [1, 10]), 2: ([5, 17], [4, 16])}
    seq = lang.decode(lang.sequence_for([1, 2])[0])
    assert [seq[i] for i in ends[1][0]] == ["B", "B"] and [seq[i + 1] for i in ends[1][0]] == ["C", "C"]


class Recording(AnbnLanguage):
    """A language that remembers every n it built a sequence for."""

    seen = ()

    def sequence_for(self, ns):
        self.seen = (*self.seen, *map(int, ns))
        return super().sequence_for(ns)


@pytest.mark.parametrize("model,mult,hid", [("lstm", (2, 3), 3), ("srn", (2,), 2)])
def test_no_training_or_validation_string_exceeds_the_range(model, mult, hid):
    torch.set_num_threads(1)
    lang = Recording(mult, length=3)
    settings = recipe.recipe_settings(TrainSettings(lang="anb2n" if mult == (2,) else "anb2nc3n", model=model,
                                                    hid=hid, length=3, seed=1))
    settings = settings.__class__(**{**settings.as_config(), "epoch": 1, "select": 1, "candidates": 2})
    result = recipe.train_recipe(settings, lang, log=lambda line: None)
    assert max(lang.seen) == 3 and min(lang.seen) == 1
    assert len(result.scores) == 2 and 0 <= result.chosen < 2
    assert len(result.losses) == 1 and np.isfinite(result.losses[0])


def test_the_learning_rate_decays_from_the_start_to_the_floor():
    assert recipe.learning_rate(0, 100, 0.01) == pytest.approx(0.01)
    assert recipe.learning_rate(99, 100, 0.01) == pytest.approx(0.01 * recipe.LR_FLOOR)
    rates = [recipe.learning_rate(s, 100, 0.01) for s in range(100)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_drift_is_the_spread_of_the_phase_end_states_in_steps():
    ends = {1: ([1, 3], [0, 2])}
    hidden = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    assert recipe.drift(hidden, ends) == 0.0  # both strings end the phase in the same state
    hidden[3] = torch.tensor([1.0, 0.5])  # the second ends half a unit away; the last steps are 1 and 1.118
    assert recipe.drift(hidden, ends) == pytest.approx(0.5 / ((1 + 1.25 ** 0.5) / 2))


def test_the_spread_loss_is_the_phase_end_variance_over_the_squared_last_step_summed_over_candidates():
    ends = {1: ([1, 3], [0, 2])}
    one = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.5]])  # ends at (1, 0) and (1, 0.5)
    hidden = torch.cat([one, 2 * one], 1).requires_grad_()  # two candidates of two units; the second twice as big
    loss = recipe.spread_loss(hidden, ends, 2)
    # variance 0.25^2 = 0.0625 over the mean squared last step (1 + 1.25) / 2, the same for both candidates
    assert loss.item() == pytest.approx(2 * 0.0625 / 1.125)
    loss.backward()
    assert torch.all(hidden.grad[[0, 2]] == 0)  # the step is held constant: only the end states are pushed
    assert hidden.grad[3, 1] > 0 > hidden.grad[1, 1] and hidden.grad[3, 3] > 0 > hidden.grad[1, 3]


def test_the_hidden_size_is_each_candidates_mean_square_over_the_positions_that_exist():
    """Two candidates of two units, one string of 2 positions and one of 1 (its second padded): candidate 0 has
    h = (1, 0), (1, 2) and (0, 0), mean h^2 (1 + 0 + 1 + 4 + 0 + 0) / 6 = 1; candidate 1 is 3 x candidate 0, 9 x the
    mean square: 1 + 9 = 10 (by hand). The padded position (value 100) is left out."""
    first = torch.tensor([[[1.0, 0.0], [1.0, 2.0]], [[0.0, 0.0], [100.0, 100.0]]])  # (batch, time, units)
    hidden = torch.cat([first, 3 * first], -1)
    exists = torch.tensor([[True, True], [True, False]])
    assert recipe.hidden_size(hidden, exists, 2).item() == pytest.approx(10.0)
    assert recipe.HIDDEN_WEIGHT["srn"] > 0 and recipe.HIDDEN_WEIGHT["lstm"] == 0


def test_the_hidden_size_joins_the_srns_loss_only_with_its_weight():
    """The same update from the same start, with and without the hidden-size weight: the weights move apart, and a
    weight of 0 is the loss without it."""
    lang = make_language("anb2n", False, 4)
    samples = [lang.sequence_for([2, 3])]
    moved = []
    for weight in (0.0, 0.0, 4.0):
        torch.manual_seed(0)
        model = recipe.build_population(replace(recipe.recipe_settings(TrainSettings()), candidates=2), lang)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        recipe.update(model, optimizer, lang, samples, 2, hidden_weight=weight)
        moved.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(moved[0], moved[1]) and not torch.allclose(moved[0], moved[2])


def test_the_hidden_size_weight_makes_the_state_smaller_after_a_step():
    """One small SGD step with weight 4 leaves a smaller mean h^2 than the same step with weight 0 (to first order
    the penalty's own gradient is followed downhill)."""
    lang = make_language("anb2n", False, 4)
    samples = [lang.sequence_for([2, 3]), lang.sequence_for([4, 1])]
    x, _, _, exists = collate(samples, lang.num_symbols)
    after = []
    for weight in (0.0, 4.0):
        torch.manual_seed(0)
        model = recipe.build_population(replace(recipe.recipe_settings(TrainSettings()), candidates=2), lang)
        recipe.update(model, torch.optim.SGD(model.parameters(), lr=0.01), lang, samples, 2, hidden_weight=weight)
        with torch.no_grad():
            after.append(recipe.hidden_size(model(x)[0], exists, 2).item())
    assert after[1] < after[0]


def test_the_sweep_row_stays_out_of_the_cross_entropy():
    """With the spread's sweep in the batch, the cross-entropy returned is still that of the samples alone."""
    lang = make_language("anb2nc3n", False, 4)
    samples = [lang.sequence_for([2, 3])]
    sweep = lang.sequence_for(recipe.sweep(lang) + [1])
    spread = (sweep, recipe.phase_ends(lang, recipe.sweep(lang)), 3.0)
    entropies = []
    for extra in (None, spread):
        torch.manual_seed(0)
        model = recipe.build_population(replace(recipe.recipe_settings(TrainSettings(lang="anb2nc3n", model="lstm")),
                                                candidates=2), lang)
        entropies.append(recipe.update(model, torch.optim.SGD(model.parameters(), lr=0.0), lang, samples, 2, extra))
    assert entropies[1] == pytest.approx(entropies[0], rel=1e-6)


def test_the_spread_joins_the_loss_from_half_way_and_the_hidden_weight_is_the_models(monkeypatch):
    """1,000 sequences in updates of 10: the first 50 updates without the spread, the last 50 with it."""
    seen = []
    monkeypatch.setattr(recipe, "update", lambda *args: seen.append((args[5] is not None, args[6])) or 0.0)
    lang = make_language("anb2nc3n", False, 4)
    settings = replace(recipe.recipe_settings(TrainSettings(lang="anb2nc3n", model="lstm")), epoch=1, select=1,
                       candidates=2)
    recipe.train_recipe(settings, lang, log=lambda line: None)
    assert seen == [(False, 0.0)] * 50 + [(True, 0.0)] * 50


def test_the_recipes_sizes_are_those_the_results_page_states():
    """docs/results.md: "32 LSTMs on 30,000 sequences each, 16 SRNs on 150,000"."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "results.md")) as f:
        text = " ".join(f.read().split())
    found = re.search(r"(\d+) LSTMs on ([\d,]+) sequences each, (\d+) SRNs on ([\d,]+)\)", text)
    for model, (candidates, sequences) in (("lstm", found.group(1, 2)), ("srn", found.group(3, 4))):
        settings = recipe.recipe_settings(TrainSettings(model=model))
        assert (settings.candidates, settings.epoch * 1000) == (int(candidates), int(sequences.replace(",", "")))


def test_seq_train_recipe_count_writes_the_chosen_network_and_its_record(tmp_path, monkeypatch):
    """The flag end to end, on a recipe cut down to 1,000 sequences and two candidates (to stay quick)."""
    monkeypatch.setitem(recipe.RECIPES, "lstm", dict(epoch=1, batch=10, lr=0.01, candidates=2))
    done = run_script(["seq_train.py", "--lang", "anb2nc3n", "--model", "lstm", "--recipe", "count", "--out_path",
                       str(tmp_path), "--plot_path", str(tmp_path / "plot")])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("training lstm with 3 hidden units on anb2nc3n: 1k sequences, adam lr 0.01, "
                                  "10 sequence(s) per update, best of 2 candidates") and "the counting recipe" in done.stdout
    model, ckpt = seq_models.load_checkpoint(str(tmp_path / "anb2nc3n_lstm3_1.pth"))
    assert ckpt["recipe"] == "count" and ckpt["candidate"] in (0, 1) and ckpt["seen"] == 1000
    forget = model.lstm.bias_ih_l0.detach()[3:6] + model.lstm.bias_hh_l0.detach()[3:6]  # i, f, g, o: f is rows 3..5
    assert forget.mean() > 1.5  # started at +5 and trained only briefly: still an integrator's bias
    record = json.loads((tmp_path / "anb2nc3n_lstm3.json").read_text())
    assert record["settings"]["recipe"] == "count" and record["results"]["chosen"] == ckpt["candidate"]
    assert len(record["results"]["recipe_losses"]) == 1 and record["results"]["last_checkpoint"].endswith("_1.pth")
    assert record["results"]["sequences_seen"] == 1000
    # the network saved is the chosen candidate: its own drift over the in-range sweep is the score it was chosen by
    lang = TrainSettings(lang="anb2nc3n", model="lstm").language()
    x = collate(recipe.validation_samples(lang), lang.num_symbols)[0]
    with torch.no_grad():
        hidden = model(x)[0]
    scores = record["results"]["validation"]
    assert len({round(score, 6) for _, score in scores}) == len(scores)  # the candidates' drifts tell them apart
    own = recipe.drift(hidden[-1], recipe.phase_ends(lang, recipe.sweep(lang)))
    assert own == pytest.approx(-scores[ckpt["candidate"]][1], rel=1e-5)


@pytest.mark.parametrize("more", [["--resume"], ["--until", "0.1"], ["--lang", "reber"]])
def test_seq_train_recipe_refuses_what_it_cannot_do(more, tmp_path):
    done = run_script(["seq_train.py", "--recipe", "count", *more, "--out_path", str(tmp_path)])
    assert done.returncode == 1 and done.stderr.startswith("error: --recipe count trains a counting language")
    assert list(tmp_path.iterdir()) == []
