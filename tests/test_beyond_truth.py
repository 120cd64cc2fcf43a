"""Beyond the training range, checked against the networks themselves.

The quick report trains two LSTMs of 3 units on a^n b^2n c^3n with n = 1..4:
the course's (shortened) and the counting recipe's, and explains both on
one string of every n up to 16. Here the sentences about where each phase
ends, the balance of the deciding counters, and the report's side-by-side
table are held against the torch networks stepped symbol by symbol
(tests/test_explain_truth.py's helpers, none of lab/explain's code), on the
longer strings the sentences speak of.
"""
import json
import re

import pytest

from lab.recurrent.series import language_for, load_model
from test_explain_truth import check_drifts, own_run, prefix, rules, step_states

NETWORKS = {"course": ("part3/net", "part3/plot"), "recipe": ("part3/count/net", "part3/count/plot")}


@pytest.fixture(scope="module")
def networks(quick_report_build):
    """Per network: (float64 torch model, language, the explanation's sentences)."""
    folder = quick_report_build[0]
    found = {}
    for who, (nets, plots) in NETWORKS.items():
        record = json.loads((folder / plots / "anb2nc3n_lstm3_explain.json").read_text())
        path = sorted((folder / nets).glob("anb2nc3n_lstm3_*.pth"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))[-1]
        model, ckpt = load_model(str(path))[:2]
        lang = language_for(ckpt["config"], None, str(path))
        found[who] = (model.double().eval(), lang, record["results"]["sentences"])
    return found


def wholly_right_up_to(model, lang, top=16):
    """The largest n up to which the network, stepped on each string, predicts every certain symbol."""
    reach = 0
    for n in range(1, top + 1):
        inputs = prefix(lang, n, len(lang.symbols)) + [0]
        _, predictions = step_states(model, inputs[:-1])
        if any(inputs[t] != 0 and predictions[t] != inputs[t + 1] for t in range(len(inputs) - 1)):
            break
        reach = n
    return reach


@pytest.mark.parametrize("who", sorted(NETWORKS))
def test_where_each_phase_ends_the_stated_drift_is_the_networks_own_up_to_n_16(networks, who):
    model, lang, sentences = networks[who]
    assert check_drifts(model, lang, sentences) == 4 * lang.length  # the report reads up to 4 x the training n


def test_the_recipe_network_balances_its_counters_and_counts_further_than_the_course_network(networks):
    reach = {who: wholly_right_up_to(*networks[who][:2]) for who in networks}
    assert reach["recipe"] > reach["course"] >= 4  # both learned the training range; the recipe's goes on
    for who, (model, lang, sentences) in networks.items():
        deciding = {unit for unit, _, _ in rules(sentences).values()}
        clauses = {}
        for s in sentences:
            m = re.match(r"(Cell unit \d) .*(to within|with no gap to two decimals|they differ by) ?(\d+\.\d+)?n?", s)
            if m and m.group(1).lower() in deciding:
                clauses[m.group(1).lower()] = (m.group(2), float(m.group(3) or 0))
        if who == "recipe":  # every deciding cell's count is said to balance, within 0.15 of its size
            assert set(clauses) == deciding and all(way != "they differ by" for way, _ in clauses.values())
        else:  # and at least one of the course network's is said not to
            assert any(way == "they differ by" for way, _ in clauses.values())


def test_the_reports_side_by_side_runs_are_the_networks_own(networks, quick_report_build):
    page = (quick_report_build[0] / "report.md").read_text()
    section = page[page.index("### Beyond the training range"):]
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\w+) \| (\w+) \| (\d+) \| (\w+) \| (\w+) \| (\d+)% \| (\d+)% \|$",
                      section, re.M)
    assert [int(r[0]) for r in rows] == list(range(1, 17))
    for row in rows:
        n = int(row[0])
        assert (int(row[1]), int(row[4])) == (2 * n, 3 * n)
        for phase, cells in ((1, row[2:4]), (2, row[5:7])):
            truth = [own_run(networks[who][0], networks[who][1], n, phase) for who in ("course", "recipe")]
            assert [None if c == "never" else int(c) for c in cells] == truth
