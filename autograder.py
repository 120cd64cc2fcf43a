"""Mark the course's code questions in a folder, question by question, with the course's marks.

    python3 autograder.py                  # this folder, every question
    python3 autograder.py --question 1.3   # one question (1.1 ... 3.5)
    python3 autograder.py --train DIR      # DIR's code; train Part 3's networks when DIR/net has none

Each code question runs in its own process with a time limit, so a broken
file costs only its question. Prints a table (question, marks, awarded, why)
and a total, and writes the marks as JSON (DIR/autograder.json, or
--record PATH). The written questions are listed as marked by a person.
What is checked, and how to change the thresholds: docs/teaching.md.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import sys
import time

from lab.common.errors import run_main
from lab.common.options import number
from lab.teaching.grader import HEAD, GradeSettings, mark, total_line, write_record
from lab.teaching.questions import QUESTIONS


def parse_args(argv=None):
    """The settings the flags give."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=".", metavar="DIR",
                        help="the folder whose code is marked (default: this one)")
    parser.add_argument("--question", choices=[q.key for q in QUESTIONS], metavar="Q",
                        help="mark one question: " + ", ".join(q.key for q in QUESTIONS) + " (default: all)")
    parser.add_argument("--train", action="store_true",
                        help="train Part 3's networks with DIR's files when DIR/net holds none")
    parser.add_argument("--record", default=None, help="where the JSON record goes (default DIR/autograder.json)")
    parser.add_argument("--time-limit", type=number(float, above=0), default=None,
                        help="seconds each question may take (default: per question, see docs/teaching.md)")
    return GradeSettings(**vars(parser.parse_args(argv)))


def main(argv=None):
    """Mark, print the table and the total, write the record."""
    start = time.perf_counter()
    settings = parse_args(argv)
    print(HEAD)
    rows = mark(settings)
    print(total_line(rows))
    path = write_record(settings, rows, time.perf_counter() - start, argv)
    print(f"record: {path} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    sys.exit(run_main(main))
