"""The exercise markers in the course files, and the stubs that replace what they enclose.

An exercise sits between two plain comment lines:

    # >>> Part 1 Q1 [1 mark]: NetLin's layers
    ...the answer...
    # <<< Part 1 Q1

A *recipe* (constants a student would find by measuring) is marked the same
way with ``recipe`` after the question (``# >>> Part 1 Q3 recipe: ...``);
the students' edition gets the plain settings in ``RECIPE_STUBS`` instead.
An exercise's stub keeps both marker lines and puts, between them, the
question's words as comments and a ``raise NotImplementedError`` naming the
question, at the indentation of the opening marker.
"""
import re
import textwrap
from dataclasses import dataclass

from lab.teaching.questions import BY_ID, not_done

COURSE_FILES = ("kuzu.py", "check.py", "seq_models.py", "anb2n.py", "reber.py")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# >>> (?P<qid>Part \d Q\d)(?P<recipe> recipe)?\b(?P<rest>.*)$")
END = re.compile(r"^[ \t]*# <<< (?P<qid>Part \d Q\d)(?P<recipe> recipe)?\s*$")
# What a recipe region becomes in the students' edition (the course's plain settings).
RECIPE_STUBS = {
    "Part 1 Q3 recipe": [
        '"conv": {"lr": 0.01, "mom": 0.5, "shift": 0, "schedule": "cosine", "nesterov": False, **PLAIN_TRAINING},',
        "}",
        "# NetConv's training settings: measure and choose your own (the flags --lr, --mom, --shift, ...).",
    ],
}


class MarkerError(ValueError):
    """The markers of a file do not pair up or name an unknown question."""


@dataclass(frozen=True)
class Region:
    """One marked region: lines ``begin`` and ``end`` (0-based) are the marker lines themselves."""

    name: str  # "Part 1 Q1" or "Part 1 Q3 recipe"
    qid: str
    begin: int
    end: int
    indent: str

    @property
    def recipe(self):
        """Whether this region holds constants rather than an exercise."""
        return self.name.endswith(" recipe")


def regions(text, path="<text>"):
    """The marked regions of a file's text, in order; a MarkerError when they do not pair up."""
    found, open_region = [], None
    for number, line in enumerate(text.splitlines()):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_region:
                raise MarkerError(f"{path}, line {number + 1}: {begin['qid']} opens inside {open_region[0]}")
            name = begin["qid"] + (begin["recipe"] or "")
            if begin["qid"] not in BY_ID or (begin["recipe"] and name not in RECIPE_STUBS):
                raise MarkerError(f"{path}, line {number + 1}: unknown question {name!r}")
            open_region = (name, begin["qid"], number, begin["indent"])
        elif end:
            name = end["qid"] + (end["recipe"] or "")
            if not open_region or open_region[0] != name:
                raise MarkerError(f"{path}, line {number + 1}: {name} closes but is not open")
            found.append(Region(name, open_region[1], open_region[2], number, open_region[3]))
            open_region = None
    if open_region:
        raise MarkerError(f"{path}: {open_region[0]} opens at line {open_region[2] + 1} and never closes")
    return found


def solution_lines(text, path="<text>"):
    """The code lines inside every region (stripped, comments and blank lines left out)."""
    lines = text.splitlines()
    kept = []
    for region in regions(text, path):
        for line in lines[region.begin + 1:region.end]:
            line = line.strip()
            if line and not line.startswith("#"):
                kept.append(line)
    return kept


def stub_lines(region):
    """What replaces a region's inside in the students' edition (without the marker lines)."""
    if region.recipe:
        return [region.indent + line for line in RECIPE_STUBS[region.name]]
    question = BY_ID[region.qid]
    words = textwrap.wrap(f"TODO {region.qid} [{question.marks} mark{'s' * (question.marks > 1)}]: "
                          f"{question.task}", 96 - len(region.indent))
    lines = [region.indent + "# " + line for line in words]
    lines.append(f"{region.indent}raise NotImplementedError({not_done(region.qid)!r})")
    return lines


def stubbed(text, path="<text>"):
    """The file's text with every region's inside replaced by its stub; returns (text, regions)."""
    lines = text.splitlines()
    found = regions(text, path)
    for region in reversed(found):
        lines[region.begin + 1:region.end] = stub_lines(region)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else ""), found
