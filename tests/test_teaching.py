"""The course as a hand-out: the exercise markers, the students' edition and the marker (autograder.py).

Wrong answers are planted by editing the lab's own course files as text and
loading the result as a module; each must cost exactly its question's marks.
Most checks run in this process (the marking logic); subprocesses only where
the process boundary is what is tested (a hang, a broken file, a command's
one-line message).
"""
import importlib.util
import itertools
import os
import subprocess
import sys

import pytest
import torch

from lab.common.errors import UserError
from lab.teaching import checks, child, edition, grader, markers
from lab.teaching.questions import QUESTIONS, code_questions

from conftest import make_kmnist, processes_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The course's questions and marks as the hand-out gives them (an independent copy, not read from the code).
COURSE = {"Part 1 Q1": 1, "Part 1 Q2": 1, "Part 1 Q3": 2, "Part 1 Q4": 4, "Part 2 Q1": 1, "Part 2 Q2": 2,
          "Part 2 Q3": 1, "Part 3 Q1": 1, "Part 3 Q2": 1, "Part 3 Q3": 1, "Part 3 Q4": 1, "Part 3 Q5": 4}
WHERE = {"Part 1 Q1": "kuzu.py", "Part 1 Q2": "kuzu.py", "Part 1 Q3": "kuzu.py",
         "Part 2 Q1": "check.py", "Part 2 Q2": "check.py", "Part 2 Q3": "check.py"}
_names = itertools.count()


def read(name, root=ROOT):
    with open(os.path.join(root, name), encoding="utf-8") as handle:
        return handle.read()


def load(name, text, tmp_path):
    """Load ``text`` as a fresh module (not in sys.modules under the course's name)."""
    path = tmp_path / f"{name}_{next(_names)}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def planted(name, old, new, tmp_path):
    text = read(name)
    assert text.count(old) == 1, old
    return load(name[:-3], text.replace(old, new), tmp_path)


@pytest.fixture
def student(monkeypatch):
    """Make the checks see the given modules as the student's course files."""
    modules = {}
    monkeypatch.setattr(checks, "student", lambda name: modules[name])
    monkeypatch.setattr(checks, "kmnist_folder", lambda folder: None)
    return modules


# ---------------------------------------------------------------- the questions and the markers


def test_the_questions_and_marks_are_the_courses():
    assert {q.qid: q.marks for q in QUESTIONS} == COURSE
    assert sum(COURSE.values()) == 20


def test_every_code_exercise_is_marked_in_its_course_file():
    found = {}
    for name in markers.COURSE_FILES:
        for region in markers.regions(read(name), name):
            if not region.recipe:
                found.setdefault(region.qid, set()).add(name)
    assert found == {qid: {name} for qid, name in WHERE.items()}
    assert {q.qid for q in code_questions()} == set(WHERE) | {"Part 3 Q1", "Part 3 Q4"}


@pytest.mark.parametrize("text, message", [
    ("# >>> Part 1 Q1 [1 mark]\nx = 1\n", "never closes"),
    ("x = 1\n# <<< Part 1 Q1\n", "closes but is not open"),
    ("# >>> Part 1 Q1\n# >>> Part 1 Q2\n", "opens inside Part 1 Q1"),
    ("# >>> Part 9 Q9\n# <<< Part 9 Q9\n", "unknown question"),
    ("# >>> Part 1 Q1\n# <<< Part 1 Q2\n", "Part 1 Q2 closes but is not open"),
])
def test_broken_markers_are_refused_with_the_line(text, message):
    with pytest.raises(markers.MarkerError, match=message):
        markers.regions(text)


def test_the_solution_lines_are_the_code_between_the_markers():
    text = "a = 1\n    # >>> Part 1 Q1 [1 mark]\n    # a note\n    b = 2\n\n    c = 3\n    # <<< Part 1 Q1\nd = 4\n"
    assert markers.solution_lines(text) == ["b = 2", "c = 3"]


def test_a_stub_keeps_the_markers_states_the_task_and_raises_naming_the_question(tmp_path):
    text, regions = markers.stubbed(read("check.py"))
    compile(text, "check.py", "exec")
    assert [r.qid for r in markers.regions(text)] == [r.qid for r in regions]
    module = load("check", text, tmp_path)
    with pytest.raises(NotImplementedError, match=r"^Part 2 Q2 \(hand design, step units, 2 marks\) is not done"):
        module.entered_weights()
    assert "# TODO Part 2 Q2 [2 marks]: Design by hand" in text


# ---------------------------------------------------------------- the students' edition


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("edition") / "handout"
    edition.write_edition(ROOT, str(out))
    return str(out)


def edition_files(out):
    for folder, _, files in os.walk(out):
        for name in files:
            yield os.path.relpath(os.path.join(folder, name), out)


def test_the_edition_holds_no_solution_line(handout):
    solutions = {line for name in markers.COURSE_FILES for line in markers.solution_lines(read(name), name)
                 if any(c.isalnum() for c in line)}  # a lone bracket gives nothing away
    assert len(solutions) >= 20  # the nets, the hand design, the factor and NetConv's recipe
    assert '"conv": {"lr": 0.08, "mom": 0.9, "shift": 2, "schedule": "onecycle", "nesterov": True, **PLAIN_TRAINING,' \
        in solutions
    for rel in edition_files(handout):
        text = read(rel, handout)
        lines = {line.strip() for line in text.splitlines()}
        assert not solutions & lines, rel
    design = read("check.py", handout)
    assert "[-0.5, -1.5, -2.5, -3.5]" not in design and "10.0" not in design


def test_the_edition_leaves_out_tests_answers_and_outputs(handout):
    files = set(edition_files(handout))
    assert {"kuzu.py", "check.py", "seq_models.py", "anb2n.py", "reber.py", "autograder.py", "README.md",
            "data/check.csv", "seq_train.py", "seq_plot.py"} <= files
    for gone in ("tests/", "docs/", "bench/", "lab/explain/", "lab/report/", "lab/machines/", "report.py",
                 "seq_explain.py", "seq_fsm.py", "handout.py"):
        assert not any(f == gone or f.startswith(gone) for f in files), gone
    assert not [f for f in files if f.endswith((".pth", ".json", ".jpg", ".pyc"))]
    assert os.listdir(os.path.join(handout, "net")) == [] and os.listdir(os.path.join(handout, "plot")) == []
    readme = read("README.md", handout)
    assert "python3 autograder.py" in readme and "tests are not part of this edition" in readme
    for q in QUESTIONS:
        assert q.qid in readme


def test_the_edition_is_refused_inside_the_lab_or_over_a_folder_without_force(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="inside the lab itself"):
        edition.write_edition(ROOT, os.path.join(ROOT, "handout_out"))
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep")
    with pytest.raises(UserError, match="not empty; .* --force"):
        edition.write_edition(ROOT, str(full))

    def interrupted(lab, folder):
        raise KeyboardInterrupt
    monkeypatch.setattr(edition, "build", interrupted)
    with pytest.raises(KeyboardInterrupt):
        edition.write_edition(ROOT, str(full), force=True)
    assert os.listdir(full) == ["mine.txt"] and os.listdir(tmp_path) == ["full"]  # nothing left half-written
    monkeypatch.undo()
    edition.write_edition(ROOT, str(full), force=True)
    assert (full / "mine.txt").read_text() == "keep" and (full / "kuzu.py").exists()


def test_a_command_needing_an_unfinished_exercise_stops_with_one_line(handout):
    done = subprocess.run([sys.executable, "check_main.py", "--act", "step", "--hid", "4", "--set_weights"],
                          cwd=handout, capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: Part 2 Q2 (hand design, step units, 2 marks) is not done yet: write it between the lines "
        "'# >>> Part 2 Q2' and '# <<< Part 2 Q2'"]


def test_the_fresh_edition_gets_nothing_with_one_not_done_line_per_question(handout, monkeypatch, tmp_path):
    monkeypatch.setattr(checks, "student", lambda name: load(name, read(name + ".py", handout), tmp_path))
    for question in code_questions():
        awarded, why = child.judge(question.key, handout, {"train": False})
        assert awarded == 0 and why.startswith(("not done yet", question.qid)) and "not done yet" in why, why


# ---------------------------------------------------------------- the lab and the planted wrong answers


def test_the_lab_gets_full_marks_for_the_code_of_parts_1_and_2(student, tmp_path):
    student["kuzu"] = load("kuzu", read("kuzu.py"), tmp_path)
    student["check"] = load("check", read("check.py"), tmp_path)
    for key in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3"):
        awarded, why = checks.CHECKS[key](ROOT, {})
        assert awarded == 1.0, (key, why)
    assert "KMNIST not found" in checks.CHECKS["1.1"](ROOT, {})[1]


# (file, text in the lab, planted text, the question that must lose its marks, words of the reason)
PLANTED = [
    ("kuzu.py", "torch.tanh(self.hid(x.flatten(1)))", "torch.sigmoid(self.hid(x.flatten(1)))", "1.2",
     "hidden units are sigmoid; the question asks for tanh"),
    ("kuzu.py", "x = F.relu(F.max_pool2d(self.conv1(x), 2))", "x = F.max_pool2d(self.conv1(x), 2)", "1.3",
     "the second convolution gets negative values"),
    ("kuzu.py", "x = F.relu(F.max_pool2d(self.conv2(x), 2))", "x = F.relu(F.max_pool2d(x, 2))\n"
     "        x = torch.cat([x, x], 1)", "1.3", "NetConv's forward pass does not use the second convolution"),
    ("kuzu.py", "return F.log_softmax(self.out(x.flatten(1)), dim=1)", "return self.out(x.flatten(1))", "1.1",
     "not log softmax"),
    ("kuzu.py", "self.out = nn.Linear(28 * 28, 10)", "self.out = nn.Linear(28 * 28, 9)", "1.1",
     "returns shape (16, 9); it must return (16, 10)"),
    ("kuzu.py", "return F.log_softmax(self.out(x.flatten(1)), dim=1)",
     "return F.log_softmax(self.out(torch.tanh(x.flatten(1))), dim=1)", "1.1", "not a linear function"),
    ("kuzu.py", "self.fc = nn.Linear(conv2 * 7 * 7, fc)", "self.fc = nn.Linear(conv2 * 7 * 7, fc, bias=False)", "1.3",
     "parameters but its layers' arithmetic gives"),
    ("kuzu.py", "x = self.dropout(F.relu(self.fc(x.flatten(1))))", "x = self.dropout(torch.sigmoid(self.fc(x.flatten(1))))",
     "1.3", "the output layer gets no zeros at all"),
    ("check.py", "hid_bias = [-0.5, -1.5, -2.5, -3.5]", "hid_bias = [-0.5, -1.5, -2.5, -2.5]", "2.2",
     "gets 2 of 9 points wrong: [(1.0, 2.0), (2.0, 1.0)]"),  # s = 3 now sums to 0 (by hand)
    ("check.py", "sig_factor = 10.0", "sig_factor = 1.0", "2.3", "times [1.0], not all times 10"),
    ("check.py", "self.hid = squash(self.in_hid(x))", "self.hid = torch.sigmoid(self.in_hid(x))", "2.1",
     "with --act step the forward pass does not compute"),
]


@pytest.mark.parametrize("name, old, new, loses, reason", PLANTED, ids=[p[3] + ": " + p[4][:30] for p in PLANTED])
def test_a_planted_wrong_answer_costs_exactly_its_questions_marks(name, old, new, loses, reason, student, tmp_path):
    student["kuzu"] = load("kuzu", read("kuzu.py"), tmp_path)
    student["check"] = load("check", read("check.py"), tmp_path)
    student[name[:-3]] = planted(name, old, new, tmp_path)
    same_file = [k for k, f in {"1.1": "kuzu.py", "1.2": "kuzu.py", "1.3": "kuzu.py", "2.1": "check.py",
                                "2.2": "check.py", "2.3": "check.py"}.items() if f == name]
    for key in same_file:
        if key == "2.1" and loses != "2.1":
            continue  # its training is the slow part; no planted design touches the forward pass
        try:
            awarded, why = checks.CHECKS[key](ROOT, {})
        except checks.Fault as err:
            awarded, why = 0.0, str(err)
        assert (awarded == 0.0) == (key == loses), (key, why)
        if key == loses:
            assert reason in why


def test_the_accuracy_after_the_short_training_is_held_against_the_threshold(monkeypatch, tmp_path):
    root = str(tmp_path / "data")
    make_kmnist(root)
    kuzu = load("kuzu", read("kuzu.py"), tmp_path)
    monkeypatch.setattr(checks, "student", lambda name: kuzu)
    monkeypatch.setattr(checks, "kmnist_folder", lambda folder: root)
    monkeypatch.setitem(checks.THRESHOLDS, "lin", 0.5)
    awarded, why = checks.part1("1.1", ROOT, {})
    assert awarded == 1.0 and "after the short training (needs 50%)" in why
    monkeypatch.setitem(checks.THRESHOLDS, "lin", 1.01)
    with pytest.raises(checks.Fault, match=r"below the 101% needed"):
        checks.part1("1.1", ROOT, {})


def test_part3_marks_the_trained_network_against_the_courses_target(monkeypatch, tmp_path):
    import seq_models
    from lab.recurrent import training
    monkeypatch.setattr(checks, "student", lambda name: seq_models)
    awarded, why = checks.part3("3.1", str(tmp_path), {})
    assert awarded == 0 and why.startswith("not done yet: no trained network net/anb2n_srn2_<k>.pth")
    torch.manual_seed(0)
    config = {"model": "srn", "num_input": 2, "num_hid": 2, "num_out": 2, "lang": "anb2n", "embed": False,
              "length": 4}
    seq_models.save_checkpoint(str(tmp_path / "net" / "anb2n_srn2_1.pth"), seq_models.build_model(config), config)
    with pytest.raises(checks.Fault, match=r"your checkpoint \(anb2n_srn2_1.pth\): loss .* not learned yet"):
        checks.part3("3.1", str(tmp_path), {})
    monkeypatch.setattr(training, "learned", lambda result, target: True)
    assert checks.part3("3.1", str(tmp_path), {})[0] == 1.0


# ---------------------------------------------------------------- the process boundary


@pytest.fixture
def broken(tmp_path):
    """A student's folder holding the lab's course files, to break one at a time."""
    for name in markers.COURSE_FILES:
        (tmp_path / name).write_text(read(name), encoding="utf-8")
    return tmp_path


def test_a_hang_a_syntax_error_and_a_crash_cost_only_their_question(broken):
    text = read("check.py")
    (broken / "check.py").write_text(text.replace("    hid_bias = [-0.5", "    open('pid', 'w').write(str(__import__('os').getpid()))\n"
                                                  "    while True:\n        pass\n"
                                                  "    hid_bias = [-0.5"), encoding="utf-8")
    assert grader.run_question("2.2", str(broken), {}, 4) == (
        0.0, "stopped after 4 s without a result: does your code loop forever or run far too long?")
    if (broken / "pid").exists():  # on a busy machine the 4 s may run out while it still loads torch
        with pytest.raises(ProcessLookupError):  # the hanging process was stopped, not left running
            os.kill(int((broken / "pid").read_text()), 0)
    assert processes_in(broken) == []  # nor anything it started
    (broken / "check.py").write_text(text.replace("out_bias = [-0.5]", "out_bias = [-0.5"), encoding="utf-8")
    awarded, why = grader.run_question("2.2", str(broken), {}, 60)
    assert awarded == 0 and why.startswith("check.py does not compile: line ")
    (broken / "kuzu.py").write_text(read("kuzu.py").replace(
        "return F.log_softmax(self.out(x.flatten(1)), dim=1)", "return F.log_softmax(self.out(x), dim=1)"))
    awarded, why = grader.run_question("1.1", str(broken), {}, 60)
    assert awarded == 0 and why.startswith("your code raised RuntimeError (kuzu.py line ")


def test_autograder_one_question_prints_the_table_and_writes_the_record(broken, tmp_path):
    record = tmp_path / "marks.json"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "autograder.py"), "--question", "2.2",
                           "--record", str(record), str(broken)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["question", "marks", "awarded", "why"]
    assert lines[1].split()[:5] == ["Part", "2", "Q2", "2", "2"]
    assert lines[2] == "total: 2 of 2 code marks"
    import json
    saved = json.loads(record.read_text())
    assert saved["awarded"] == 2 and saved["questions"][0]["why"].startswith("the hand design with 4 step units")
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "autograder.py"), str(tmp_path / "nowhere")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().endswith("nowhere is not a folder")
