"""The students' edition: the lab with every marked exercise replaced by its stub and no answers.

``write_edition(lab, out)`` copies the lab's files into ``out``, stubbing
every marked region (lab/teaching/markers.py) and leaving out what would give
an answer away: the tests (they check the answers), the benchmarks, the
documentation and results, the report and the tools that write the
written questions' answers (``seq_fsm.py``, ``seq_explain.py``,
``report.py`` and their packages), and every checkpoint, record and plot.
The edition's README lists the questions and how to check them. The edition
is built in a temporary folder beside ``out`` and moved in only when whole.
"""
import os
import shutil
import tempfile

from lab.common.errors import UserError
from lab.teaching.markers import COURSE_FILES, MarkerError, stubbed
from lab.teaching.questions import QUESTIONS

# Left out of the edition, as paths relative to the lab (folders end in /).
LEFT_OUT = (
    "tests/", "bench/", "docs/", "net/", "plot/", "report/", "lab/explain/", "lab/report/", "lab/machines/",
    "report.py", "seq_explain.py", "seq_fsm.py", "handout.py", "README.md",
)
KEPT_DATA = ("data/check.csv",)
LEFT_OUT_SUFFIXES = (".pth", ".pt", ".pyc", ".jpg", ".png", ".json", ".dot", ".lock")
EMPTY_FOLDERS = ("net", "plot", "data")


def lab_files(lab):
    """The lab's files that go into the edition, as sorted relative paths."""
    chosen = []
    for folder, subfolders, files in os.walk(lab):
        rel_folder = os.path.relpath(folder, lab)
        rel_folder = "" if rel_folder == "." else rel_folder.replace(os.sep, "/") + "/"
        subfolders[:] = sorted(name for name in subfolders
                               if not name.startswith(".") and name != "__pycache__"
                               and rel_folder + name + "/" not in LEFT_OUT)
        for name in files:
            rel = rel_folder + name
            if name.startswith(".") and name != ".gitignore":
                continue
            if rel in LEFT_OUT or name.endswith(LEFT_OUT_SUFFIXES):
                continue
            if rel.startswith("data/") and rel not in KEPT_DATA:
                continue
            chosen.append(rel)
    return sorted(chosen)


def readme():
    """The edition's README: the questions, the commands, and how to check an answer."""
    rows = [f"| {q.qid} | {q.marks} | {q.title} | {'`' + q.run + '`' if q.run else 'written: hand it in'} |"
            for q in QUESTIONS]
    return "\n".join([
        "# Neural-network lab: the students' edition",
        "",
        "The course's three parts as code to complete. Each exercise sits in a course file",
        "(`kuzu.py`, `check.py`) between the two comment lines `# >>> Part P Qn [marks]` and",
        "`# <<< Part P Qn`; until you write it, a command that needs it stops with one line naming it.",
        "Part 3 needs no code of yours: train the networks with its commands and explain them.",
        "",
        "| question | marks | what | run it |",
        "|---|---:|---|---|",
        *rows,
        "",
        "## Checking your answers",
        "",
        "```",
        "python3 autograder.py                 # every code question, with the marks",
        "python3 autograder.py --question 1.2  # one question (1.1 ... 3.4)",
        "```",
        "",
        "The marker runs each question in its own process with a time limit and prints a table",
        "(question, marks, awarded, why) and writes `autograder.json`. It checks each net's",
        "structure as the question states it and its accuracy after a short training on KMNIST",
        "(`KMNIST_DATA=DIR` where DIR holds `KMNIST/raw/`; without KMNIST it marks the structure only),",
        "the hand designs on the 9 points, and the Part 3 networks you trained into `net/`",
        "(`--train` trains them for you). The lab's own tests are not part of this edition (they",
        "would give the answers away): the marker is how you check your work. The written",
        "questions are marked by a person.",
        "",
        "## Commands",
        "",
        "```",
        "python3 kuzu_main.py --net lin|full|conv",
        "python3 check_main.py --act sig --hid 5",
        "python3 check_main.py --act step --hid 4 --set_weights",
        "python3 check_main.py --act sig --hid 4 --set_weights",
        "python3 seq_train.py --lang anb2n",
        "python3 seq_plot.py  --lang anb2n",
        "python3 seq_train.py --lang anb2nc3n --model lstm --hid 3",
        "python3 seq_plot.py  --lang anb2nc3n --model lstm --context",
        "```",
        "",
        "Every command has `--help`. You need Python 3.11 with torch, torchvision, numpy and",
        "matplotlib (`requirements.txt`).",
        "",
    ])


def _inside(path, folder):
    """Whether ``path`` is ``folder`` or lies under it (both resolved)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_target(lab, out, force=False):
    """Refuse an ``out`` inside the lab, a file, or a non-empty folder without ``force`` (UserError)."""
    if _inside(out, lab):
        raise UserError(f"{out} is inside the lab itself; write the students' edition somewhere else")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"{out} is a file, not a folder")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise UserError(f"{out} is not empty; choose an empty folder or add --force to write over it")


def build(lab, folder):
    """Write the edition's files into ``folder``; returns (files written, exercises stubbed)."""
    written, stubs = [], 0
    for rel in lab_files(lab):
        source, target = os.path.join(lab, rel), os.path.join(folder, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if rel.endswith(".py"):
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
            try:
                text, regions = stubbed(text, rel)
            except MarkerError as err:
                raise UserError(f"the lab's markers are broken: {err}") from None
            stubs += sum(not region.recipe for region in regions)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            shutil.copyfile(source, target)
        written.append(rel)
    for name in EMPTY_FOLDERS:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(readme())
    missing = [name for name in COURSE_FILES if name not in written]
    if missing:
        raise UserError(f"the lab has no {', '.join(missing)}: is it the lab's folder?")
    return written + ["README.md"], stubs


def write_edition(lab, out, force=False):
    """Write the students' edition of ``lab`` into ``out``; returns (files written, exercises stubbed).

    Built whole in a temporary folder beside ``out`` first, so a failure or
    Ctrl-C leaves ``out`` as it was.
    """
    check_target(lab, out, force)
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".handout-", dir=parent)
    try:
        written, stubs = build(lab, scratch)
        os.makedirs(out, exist_ok=True)
        for rel in written + [name + "/" for name in EMPTY_FOLDERS]:
            target = os.path.join(out, rel)
            if rel.endswith("/"):
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(scratch, rel), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written, stubs
