"""The report's pieces without building a report: the output checks (lab/report/checks.py), the plan of steps
(lab/report/steps.py) and the blocks made from hand-written records (lab/report/content.py)."""
from types import SimpleNamespace

import numpy as np

from lab.report import checks, content
from lab.report.steps import plan, skip_reason


def jpeg(path):
    """A small whole JPEG image."""
    from matplotlib import pyplot

    pyplot.imsave(str(path), np.zeros((4, 4)), format="jpg", cmap="gray")
    return str(path)


# --- checks ----------------------------------------------------------------------------------------------------

def test_a_path_inside_the_folder_only(tmp_path):
    folder = tmp_path / "rep"
    folder.mkdir()
    assert checks.inside(str(folder), "part1/a.jpg") == str(folder / "part1" / "a.jpg")
    assert checks.inside(str(folder), "../rep2/a.jpg") is None  # a sibling whose name starts the same
    assert checks.inside(str(folder), "../a.jpg") is None
    assert checks.inside(str(folder), str(folder / "a.jpg")) is None  # records list relative paths only


def test_image_problems_are_named(tmp_path):
    good = jpeg(tmp_path / "good.jpg")
    assert checks.image_problem(good) is None
    data = open(good, "rb").read()
    (tmp_path / "start.jpg").write_bytes(b"\xff\x00" + data[2:])
    assert checks.image_problem(str(tmp_path / "start.jpg")) == "is not a JPEG image (no start marker)"
    (tmp_path / "cut.jpg").write_bytes(data[:-2] + b"\x12\xd9")
    assert checks.image_problem(str(tmp_path / "cut.jpg")) == "is cut short (no JPEG end marker)"
    (tmp_path / "padded.jpg").write_bytes(data + b"\x00\x00")
    assert checks.image_problem(str(tmp_path / "padded.jpg")) is None
    assert checks.image_problem(str(tmp_path / "none.jpg")) == "is missing"


def test_listed_files_must_be_there_and_not_empty(tmp_path):
    jpeg(tmp_path / "a.jpg")
    (tmp_path / "empty.pth").write_bytes(b"")
    (tmp_path / "net.pth").write_bytes(b"x")
    assert checks.files_problem(str(tmp_path), {"files": ["a.jpg", "net.pth"]}) is None
    assert checks.files_problem(str(tmp_path), {"files": ["a.jpg", "empty.pth"]}) == "empty.pth is missing or empty"
    assert checks.files_problem(str(tmp_path), {"files": ["gone.pth"]}) == "gone.pth is missing or empty"


def test_expected_inputs_by_hand():
    """a^n b^2n c^3n: symbol 0 n times, symbol 1 2n times, symbol 2 3n times."""
    lang = SimpleNamespace(mult=(2, 3), tag="anb2nc3n")
    assert checks.expected_inputs(lang, 1) == [0, 1, 1, 2, 2, 2]
    assert checks.expected_inputs(lang, 2) == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert checks.expected_inputs(SimpleNamespace(mult=(2,)), 3) == [0] * 3 + [1] * 6


def anb2n_trajectory(n, width):
    inputs = [0] * n + [1] * (2 * n)
    return {"n": n, "inputs": inputs, "states": [[0.0] * width for _ in inputs]}


def test_trajectories_must_be_the_languages_strings_at_the_networks_width():
    lang = SimpleNamespace(mult=(2,), tag="anb2n")
    srn = {"model": "srn", "hid": 2, "length": 3, "trajectories": [anb2n_trajectory(n, 2) for n in (1, 2, 3, 4)]}
    assert checks.trajectories_problem("e.json", srn, lang) is None
    lstm = {**srn, "model": "lstm", "trajectories": [anb2n_trajectory(n, 4) for n in (1, 2, 3)]}  # hidden + cell
    assert checks.trajectories_problem("e.json", lstm, lang) is None
    short = {**lstm, "trajectories": [anb2n_trajectory(n, 2) for n in (1, 2, 3)]}
    assert "states[0] has 2 values, expected 4" in checks.trajectories_problem("e.json", short, lang)
    twice = {**srn, "trajectories": [anb2n_trajectory(n, 2) for n in (1, 2, 2, 3)]}
    assert "trajectories[2].n is 2, expected a new n" in checks.trajectories_problem("e.json", twice, lang)
    lacking = {**srn, "trajectories": [anb2n_trajectory(n, 2) for n in (1, 2)]}
    assert "lack the string with n = 3" in checks.trajectories_problem("e.json", lacking, lang)
    extra = anb2n_trajectory(1, 2)
    extra["states"].append([0.0, 0.0])
    assert "has 4 states for 3 inputs" in checks.trajectories_problem("e.json", {**srn, "trajectories": [extra]},
                                                                       lang)


def test_an_explanation_of_a_longer_length_than_the_network_was_trained_on(tmp_path, monkeypatch):
    """seq_explain.py --length 6 explains strings up to n = 6 of a network trained with length 4: its analysis
    length is the record's setting, not the network's."""
    from lab.recurrent import series

    (tmp_path / "net.pth").write_bytes(b"x")
    config = {"lang": "anb2n", "model": "srn", "num_hid": 2, "length": 4, "embed": False}
    monkeypatch.setattr(series, "read_checkpoint", lambda path: {"config": config})
    analysis = {"lang": "anb2n", "model": "srn", "hid": 2, "length": 6,
                "trajectories": [anb2n_trajectory(n, 2) for n in range(1, 7)]}
    record = {"settings": {"length": 6}, "results": {"checkpoint": "net.pth", "analysis": analysis}}
    assert checks.explanation_problem(str(tmp_path), "e.json", record) is None
    record = {"settings": {}, "results": {"checkpoint": "net.pth", "analysis": analysis}}
    assert "analysis.length is 6, but its network (net.pth) has 4" in checks.explanation_problem(str(tmp_path),
                                                                                                 "e.json", record)


# --- steps -----------------------------------------------------------------------------------------------------

def test_every_step_gets_the_seed_and_reads_its_own_network():
    steps = plan({1, 2, 3}, seed=5)
    for step in steps:
        assert step.argv[step.argv.index("--seed") + 1] == "5", step.name
    part3 = {s.name: s.needs for s in steps if s.part == 3}
    assert part3 == {"train_anb2n_srn2": None, "plot_anb2n_srn2": "train_anb2n_srn2",
                     "fsm_anb2n_srn2": "train_anb2n_srn2", "explain_anb2n_srn2": "train_anb2n_srn2",
                     "train_anb2nc3n_lstm3": None, "plot_anb2nc3n_lstm3": "train_anb2nc3n_lstm3",
                     "context_anb2nc3n_lstm3": "train_anb2nc3n_lstm3", "fsm_anb2nc3n_lstm3": "train_anb2nc3n_lstm3",
                     "explain_anb2nc3n_lstm3": "train_anb2nc3n_lstm3",
                     "train_anb2nc3n_lstm3_count": None, "explain_anb2nc3n_lstm3_count": "train_anb2nc3n_lstm3_count"}
    assert all("--seed" not in s.argv for s in plan({1, 2, 3}))
    by_name = {s.name: s for s in steps}  # the counting recipe's network has folders of its own
    assert by_name["train_anb2nc3n_lstm3_count"].record == "part3/count/net/anb2nc3n_lstm3.json"
    assert "--recipe" in by_name["train_anb2nc3n_lstm3_count"].argv
    assert by_name["explain_anb2nc3n_lstm3_count"].args()[-2:] == ["--plot_path", "part3/count/plot"]


def test_a_steps_command_names_the_reports_folder():
    step = plan({3})[0]
    assert step.command("my report") == ("python3 seq_train.py --lang anb2n --model srn --out_path "
                                         "'my report/part3/net' --plot_path 'my report/part3/plot'")
    assert step.args()[-1] == "part3/plot"


def test_a_step_waits_for_the_network_it_reads():
    train, plot = plan({3})[:2]
    for status, finished in (("pending", False), ("failed", False), ("skipped", False), ("ok", True),
                             ("reused", True)):
        train.status = status
        assert train.finished is finished
        assert (skip_reason(plot, [train, plot]) is None) is finished, status


# --- content ---------------------------------------------------------------------------------------------------

def context(tmp_path, parts, records):
    """A Context over the plan of ``parts`` whose steps in ``records`` finished with those records."""
    steps = plan(parts)
    for step in steps:
        step.status = "ok" if step.name in records else "failed"
    ctx = content.Context(str(tmp_path), "rep", steps)
    ctx.records.update(records)
    return ctx


def table(blocks, first_header):
    """The rows of the table whose first column is ``first_header``, each as {header: cell}."""
    found = [b for b in blocks if b[0] == "table" and b[1][0] == first_header]
    assert len(found) == 1
    return [dict(zip(found[0][1], row)) for row in found[0][2]]


def test_the_explanation_tables_put_each_number_under_its_header(tmp_path, monkeypatch):
    monkeypatch.setattr(content, "explanation_problem", lambda *args: None)
    monkeypatch.setattr(content, "views", lambda analysis: [])
    analysis = {"lang": "anb2n", "model": "srn", "hid": 2, "length": 4,
                "decisions": [{"then": "B", "phase": "A", "unit": "h1", "direction": "below", "threshold": -0.25,
                               "separates": 0.97, "network_right": 0.5}],
                "runs": [{"unit": "h0", "with": None, "phase": "B", "same": 3, "near": 1,
                          "runs": [{"n": 5, "needed": 10, "network": 9, "predicted": None}]}],
                "rates": [{"unit": "h0", "phase": "A", "rate": -0.125, "r2": 0.95, "spread": 0.0625,
                           "verdict": "counts"}]}
    record = {"results": {"sentences": ["s"], "analysis": analysis}, "files": []}
    blocks = content._explanation(context(tmp_path, {3}, {"explain_anb2n_srn2": record}), "anb2n_srn2")
    assert table(blocks, "prediction") == [{"prediction": "B after the last A", "deciding unit": "h1",
                                            "threshold": "below -0.25", "separates": "97%", "network right": "50%"}]
    assert table(blocks, "n") == [{"n": "5", "B's needed": "10", "the network's run": "9",
                                   "predicted from h0": "never"}]
    assert table(blocks, "unit") == [{"unit": "h0", "phase": "A", "rate per symbol": "-0.125", "r^2": "0.95",
                                      "spread": "0.062", "verdict": "counts"}]


def test_the_notes_say_which_weights_were_tested_over_how_many_views_and_at_what_threads():
    look = [{"mean_ms": {1: 2.0}, "chosen": 1}]
    epochs = [{"threads": 4, "thread_looks": look}, {"threads": 4, "thread_looks": []}, {"threads": 1}]
    notes = content.training_notes({"final_test": {"views": 1, "averaged": True, "accuracy": 91.5,
                                                   "compared": {"last weights, 1 view": 90.25}}, "epochs": epochs})
    assert notes == ["Final test of the average of the weights over the last steps, one view per image: 91.50% "
                     "(compared: last weights, 1 view: 90.25%).",
                     "Thread count chosen while training (by timing the steps); epochs mostly run 1 at 1 thread, "
                     "2 at 4 threads."]
    notes = content.training_notes({"final_test": {"views": 5, "averaged": False, "accuracy": 80.0},
                                    "epochs": [{"threads": 2, "thread_looks": []}]})  # a fixed --threads: no looks
    assert notes == ["Final test of the last weights, each image's prediction averaged over 5 views (itself and its "
                     "one-pixel moves): 80.00%."]
    assert content.training_notes({"final_test": {"views": 1, "averaged": False}, "epochs": []}) == []


def kuzu_record(files=()):
    return {"wall_time_s": 12.0, "files": list(files), "results": {
        "accuracy": 70.0, "correct": 3500, "test_images": 5000, "parameters": 7850, "arithmetic": ["a", "total"],
        "epochs": [{}], "classes": list("abcdefghij"), "confusion": [[0] * 10] * 10,
        "most_confused": [], "why_confused": ["why"]}}


def test_part1_tables_its_own_counts_and_captions_the_weights_for_netlin_only(tmp_path):
    (tmp_path / "part1").mkdir()
    for net in ("lin", "full"):
        jpeg(tmp_path / "part1" / f"kuzu_{net}_pairs.jpg")
    (tmp_path / "part1" / "kuzu_full_curve.jpg").write_bytes(b"\xff\xd8 not an image")  # damaged: left out
    records = {f"kuzu_{net}": kuzu_record([f"part1/kuzu_{net}_pairs.jpg", f"part1/kuzu_{net}_curve.jpg"])
               for net in ("lin", "full")}
    blocks = content.part1(context(tmp_path, {1}, records))
    rows = table(blocks, "net")
    assert [row["right"] for row in rows] == ["3500/5000", "3500/5000"]
    figures = {path: caption for kind, path, caption, *_ in [b for b in blocks if b[0] == "figure"]}
    assert set(figures) == {"part1/kuzu_lin_pairs.jpg", "part1/kuzu_full_pairs.jpg"}
    assert "weight images" in figures["part1/kuzu_lin_pairs.jpg"]
    assert "weight images" not in figures["part1/kuzu_full_pairs.jpg"]


def test_part3_shares_and_the_machines_table(tmp_path):
    train = {"files": [], "results": {"verdict": {"det_right": 30, "det_total": 40, "sequences": 10, "loss": 0.5},
                                      "candidates": 1, "sequences_seen": 1000, "target_loss": 0.1,
                                      "learned": False}}
    text = content._training(context(tmp_path, {3}, {"train_anb2n_srn2": train}), "anb2n_srn2", "SRN")[0][1]
    assert "predicts 75.0% of the deterministic symbols" in text
    fsm = {"files": [], "results": {"machine": {"states": [1, 2]}, "merged": {"states": 2}, "criterion_met": True,
                                    "validation": [{"set": "training", "deterministic": 100, "machine_right": 0.25,
                                                    "network_right": 0.75, "machine_equals_network": 0.5,
                                                    "stuck": 3, "nearest_state": 0.125}]}}
    blocks = content._machine(context(tmp_path, {3}, {"fsm_anb2n_srn2": fsm}), "anb2n_srn2")
    assert table(blocks, "set") == [{"set": "training", "deterministic": 100, "machine right": "25.00%",
                                     "network right": "75.00%", "machine = network": "50.00%", "stuck": 3,
                                     "nearest state": "12.50%"}]


def test_view_captions_name_the_units_on_each_axis():
    """seq_plot.py's file ..._jk.jpg draws unit j across and unit k up (lab/recurrent/plots.py: points[:, j],
    points[:, k])."""
    assert content._view_caption("p/anb2n_srn2_01.jpg", "Hidden units") == \
        "Hidden units: hidden unit 0 (across) against hidden unit 1 (up)"
    assert content._view_caption("p/anb2nc3n_lstm3_context_12.jpg", "Cell units") == \
        "Cell units: cell unit 1 (across) against cell unit 2 (up)"
    assert content._view_caption("p/anb2nc3n_lstm3_3d_top.jpg", "Hidden units") == \
        "Hidden units: hidden units 0, 1 and 2 in 3-D, seen from the top"


def test_quick_trains_part1_for_one_epoch():
    """report.py's quick note says Part 1 trained for 1 epoch."""
    for step in plan({1}, quick=True):
        assert step.argv[step.argv.index("--epochs") + 1] == "1", step.name
    assert all("--epochs" not in step.argv for step in plan({1}))
