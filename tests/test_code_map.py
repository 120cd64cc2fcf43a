"""docs/design.md's map of the code names every module, and no module that is not there."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mapped():
    text = open(os.path.join(ROOT, "docs", "design.md"), encoding="utf-8").read()
    block = text.split("## Map of the code", 1)[1].split("```", 2)[1]
    return [line.split()[0] for line in block.strip().splitlines()]


def modules():
    found = [name for name in os.listdir(ROOT) if name.endswith(".py")]
    for folder, _, files in os.walk(os.path.join(ROOT, "lab")):
        found += [os.path.relpath(os.path.join(folder, f), ROOT) for f in files
                  if f.endswith(".py") and f != "__init__.py"]
    return found


def test_the_map_lists_every_module_once():
    names = mapped()
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(modules())


def test_every_line_of_the_map_says_what_the_module_holds():
    text = open(os.path.join(ROOT, "docs", "design.md"), encoding="utf-8").read()
    block = text.split("## Map of the code", 1)[1].split("```", 2)[1]
    for line in block.strip().splitlines():
        assert re.match(r"^\S+\.py\s{2,}\S.{10,}$", line), line


LAYERS = {"lab.common": 0, "course": 1, "lab.characters": 2, "lab.check": 2, "lab.recurrent": 2,
          "lab.machines": 3, "lab.explain": 3, "lab.teaching": 3, "lab.report": 4, "command": 5}
COURSE_MODELS = {"kuzu", "check", "anb2n", "reber", "seq_models"}
COMMANDS = {"kuzu_main", "check_main", "seq_train", "seq_plot", "seq_fsm", "seq_explain", "report", "handout",
            "autograder"}


def layer_of(module):
    """The layer of a module by its dotted name (None for the standard library and other packages)."""
    if module in COURSE_MODELS:
        return "course"
    if module in COMMANDS:
        return "command"
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "lab" and len(parts) > 1 else None


def imports_of(path):
    import ast

    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_every_module_borrows_only_from_below():
    wrong = []
    for path in modules():
        name = path[:-3].replace(os.sep, ".")
        mine = layer_of(name)
        for other in imports_of(os.path.join(ROOT, path)):
            theirs = layer_of(other)
            if theirs is None or theirs == mine:
                continue
            if theirs == "command" or LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{path} imports {other}")
    assert not wrong, wrong
