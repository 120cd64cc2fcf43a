"""Write the students' edition of the lab: every marked exercise a stub, no answers.

    python3 handout.py OUT            # OUT must be empty or new
    python3 handout.py OUT --force    # write over a folder that is not empty

Each exercise between the lines ``# >>> Part P Qn`` and ``# <<< Part P Qn``
of the course files becomes a stub that states the task and raises
NotImplementedError naming the question; the tests, benchmarks, documents,
report, checkpoints, records and plots stay out (docs/teaching.md).
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import os
import sys

from lab.common.errors import run_main
from lab.teaching.edition import write_edition

LAB = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    """The flags: the folder to write and --force."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", metavar="OUT", help="the folder to write the students' edition into")
    parser.add_argument("--force", action="store_true", help="write even when OUT is not empty")
    return parser.parse_args(argv)


def main(argv=None):
    """Write the edition and say what was written."""
    args = parse_args(argv)
    written, stubs = write_edition(LAB, args.out, force=args.force)
    print(f"wrote the students' edition into {args.out}: {len(written)} files, {stubs} exercises stubbed")
    print(f"check it with: cd {args.out} && python3 autograder.py")


if __name__ == "__main__":
    sys.exit(run_main(main))
