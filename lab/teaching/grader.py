"""Mark a folder's code question by question, each in its own process with a time limit.

``mark(settings)`` runs lab/teaching/child.py once per code question,
with the student's folder as the working directory, and turns whatever
happens there (a result, a crash, a hang past the limit) into marks and a
reason. ``table`` prints the marks; ``write_record`` saves them as JSON.
"""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from lab.common.errors import UserError
from lab.common.files import atomic_write_text
from lab.common.records import cpu_name
from lab.teaching.child import RESULT
from lab.teaching.questions import QUESTIONS, code_questions, find

GRADER_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHILD = os.path.join(GRADER_ROOT, "lab", "teaching", "child.py")
# Seconds each question may take (its process is stopped after that); --train adds TRAIN_LIMIT to Part 3.
LIMITS = {"1.1": 60, "1.2": 60, "1.3": 90, "2.1": 60, "2.2": 30, "2.3": 30, "3.1": 30, "3.4": 30}
TRAIN_LIMIT = 150


@dataclass(frozen=True)
class GradeSettings:
    """One marking run: the folder, which question (None: all), whether to train Part 3, the record's path."""

    folder: str = "."
    question: str = None
    train: bool = False
    record: str = None
    time_limit: float = None  # None: LIMITS

    def __post_init__(self):
        if not os.path.isdir(self.folder):
            raise UserError(f"{self.folder} is not a folder")
        if self.question is not None and find(self.question) is None:
            keys = ", ".join(q.key for q in QUESTIONS)
            raise UserError(f"no question {self.question!r}; choose from {keys}")

    def questions(self):
        """The questions to mark or list, in the hand-out's order."""
        return [find(self.question)] if self.question else list(QUESTIONS)

    def limit(self, key):
        """The time limit for one question, in seconds."""
        if self.time_limit is not None:
            return self.time_limit
        return LIMITS[key] + (TRAIN_LIMIT if self.train and key.startswith("3.") else 0)


def run_question(key, folder, options, limit):
    """Mark one question in a child process; returns (awarded share, why)."""
    command = [sys.executable, CHILD, key, os.path.abspath(folder), GRADER_ROOT, json.dumps(options)]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    child = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, start_new_session=True)
    try:
        out, err = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _stop(child)
        return 0.0, f"stopped after {limit:g} s without a result: does your code loop forever or run far too long?"
    except BaseException:
        _stop(child)
        raise
    lines = [line for line in out.splitlines() if line.startswith(RESULT)]
    if lines:
        result = json.loads(lines[-1][len(RESULT):])
        return float(result["awarded"]), result["why"]
    last = (err.strip().splitlines() or ["no message"])[-1]
    return 0.0, f"the check's process ended without a result (exit status {child.returncode}): {last}"


def _stop(child):
    """Kill a child and everything it started (it leads its own process group)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.communicate()


def mark(settings, log=print):
    """Mark the chosen code questions; returns one dict per question chosen (written ones included)."""
    options = {"train": settings.train}
    rows = []
    for question in settings.questions():
        row = {"question": question.qid, "title": question.title, "marks": question.marks, "kind": question.kind}
        if question.kind == "written":
            lab = os.path.isfile(os.path.join(settings.folder, "report.py"))  # the students' edition has none
            row.update(awarded=None, why="marked by a person; " + (f"the lab answers it in {question.answered_in}"
                                                                 if lab else "hand in your answer"))
        else:
            start = time.perf_counter()
            share, why = run_question(question.key, settings.folder, options, settings.limit(question.key))
            row.update(awarded=round(share * question.marks, 2), why=why,
                       seconds=round(time.perf_counter() - start, 1))
        rows.append(row)
        log(line(row))
    return rows


def _number(value):
    return f"{value:g}" if value is not None else "-"


HEAD = f"{'question':<10} {'marks':>5} {'awarded':>7}  why"


def line(row):
    """One row of the table."""
    return f"{row['question']:<10} {row['marks']:>5} {_number(row['awarded']):>7}  {row['why']}"


def totals(rows):
    """(awarded, code marks, marks left to a person) over the rows."""
    code = [r for r in rows if r["kind"] == "code"]
    return (sum(r["awarded"] for r in code), sum(r["marks"] for r in code),
            sum(r["marks"] for r in rows if r["kind"] == "written"))


def total_line(rows):
    """The closing line: the code marks awarded, and the marks a person gives."""
    awarded, out_of, written = totals(rows)
    text = f"total: {awarded:g} of {out_of} code marks"
    return text + (f" ({written} more for the written questions, marked by a person)" if written else "")


def write_record(settings, rows, seconds, argv=None):
    """Save the marks as JSON (atomically) at the record's path; returns the path."""
    awarded, out_of, written = totals(rows)
    path = settings.record or os.path.join(settings.folder, "autograder.json")
    record = {
        "command": "autograder.py", "argv": list(sys.argv[1:] if argv is None else argv),
        "folder": os.path.abspath(settings.folder), "train": settings.train,
        "questions": rows, "awarded": awarded, "code_marks": out_of, "written_marks": written,
        "machine": cpu_name(), "cpus": os.cpu_count(), "wall_s": round(seconds, 1),
    }
    try:
        atomic_write_text(json.dumps(record, indent=1) + "\n", path)
    except OSError as err:
        raise UserError(f"cannot write the record {path}: {err.strerror}") from None
    return path


def code_keys():
    """The keys of the code questions (for --question's help)."""
    return [q.key for q in code_questions()]
