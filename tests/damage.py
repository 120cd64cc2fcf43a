"""Helpers for the tests of damaged files and odd folders: small files built on the spot, damaged on purpose.

Nothing here is a fixture file: a checkpoint is a tiny untrained network
saved through the lab's own save function, a report folder is a manifest and
three run records written as JSON.
"""
import json
import os

import torch

from lab.common.errors import run_main

from seq_models import build_model, save_checkpoint

# A Part 3 network as seq_train.py describes it: an SRN with 2 hidden units on a^n b^2n (2 symbols, n up to 4).
SEQ_CONFIG = dict(lang="anb2n", embed=False, length=4, model="srn", num_input=2, num_hid=2, num_out=2)

# report.py --parts 2: the three check_main.py runs, their arguments inside the report folder and their records
PART2 = {
    "check_sig_5": (["check_main.py", "--act", "sig", "--hid", "5", "--plot-dir", "part2/sig_5"],
                    "part2/sig_5/check_sig_5.json"),
    "check_step_4_set": (["check_main.py", "--act", "step", "--hid", "4", "--set_weights", "--plot-dir",
                          "part2/step_4_set"], "part2/step_4_set/check_step_4_set.json"),
    "check_sig_4_set": (["check_main.py", "--act", "sig", "--hid", "4", "--set_weights", "--plot-dir",
                         "part2/sig_4_set"], "part2/sig_4_set/check_sig_4_set.json"),
}


def snapshot(folder):
    """{path relative to ``folder``: bytes} of every file below it, hidden ones included."""
    found = {}
    for where, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(where, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


def seq_checkpoint(path, **config):
    """Save an untrained SRN (seeded) as a Part 3 checkpoint, ``config`` overriding SEQ_CONFIG; returns the path."""
    torch.manual_seed(0)
    settings = dict(SEQ_CONFIG, **config)
    save_checkpoint(str(path), build_model(SEQ_CONFIG), settings, seen=1000, loss=0.1)
    return path


def damage(path, change):
    """Load the checkpoint at ``path`` as plain data, apply ``change(data)`` and write it back as torch.save does.

    ``torch.save`` is used directly, not the lab's save function, because
    the lab refuses to write what the tests need: non-finite weights and the like.
    """
    data = torch.load(path, weights_only=True)
    change(data)
    torch.save(data, path)


def check_record(results, trained):
    """A check_main.py run record with ``results`` (as the report reads them)."""
    base = {"accuracy": 100.0, "trained": trained, "dividing_lines": ["H1: 1.00*x1 + 1.00*x2 - 0.50 = 0"],
            "activation_table": "   x1    x2    H1   out\n 0.00  0.00  0.00  0.00"}
    if trained:
        base.update(epochs=2000, restarts=0, reached=True)
    return {"record_version": 1, "command": "check_main.py", "command_line": "python3 check_main.py",
            "settings": {}, "seed": None, "files": [], "results": dict(base, **results), "wall_time_s": 1.0}


def part2_report(out):
    """Write a finished report of Part 2 into ``out`` as report.py --parts 2 leaves it (no images); returns out."""
    steps = {}
    for name, (args, record) in PART2.items():
        path = os.path.join(out, record)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(check_record({}, trained=name == "check_sig_5"), handle)
        steps[name] = {"command": "python3 " + " ".join(args), "args": args, "status": "ok", "seconds": 1.5,
                       "record": record, "message": "", "data": None}
    manifest = {"record_version": 1, "command": "report.py", "command_line": "python3 report.py --parts 2",
                "settings": {}, "files": [], "results": {"quick": False, "steps": steps}, "wall_time_s": 5.0}
    for name, text in (("report.json", json.dumps(manifest)), ("index.html", "<p>earlier page</p>\n"),
                       ("report.md", "earlier page\n")):
        with open(os.path.join(out, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    return out


def edit_json(path, change):
    """Apply ``change(data)`` to the JSON file at ``path``."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    change(data)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def refused(main, argv, capsys):
    """Run a command's main in this process (via run_main); returns its standard error after checking it refused in one line."""
    status = run_main(main, argv)
    err = capsys.readouterr().err
    assert status == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err
