"""Whether a finished step's output still holds what the report takes from it, beyond its record's format.

The record format (lab.common.schema) says what each field must be; these
checks hold a record against what it describes: the files the step wrote
must all be there, each image whole (both JPEG markers, and it decodes), and
an explanation record (seq_explain.py) must agree with its network's
checkpoint and with itself: the language, its length, the model and its
width, every string's input symbols and every state's width. Each check
returns None, or one sentence saying what is wrong and in which file.
``read_run_record`` reads a record, its settings checked with the flags of
the command that wrote it.
"""
import os

from lab.common.records import read_record

IMAGES = (".jpg", ".jpeg", ".png")


def read_run_record(path, command=None):
    """A run record (lab.common.records.read_record), its settings checked with the flags of the command that wrote
    it: a UserError names the file and the setting."""
    from lab.characters import settings as part1
    from lab.check import settings as part2
    from lab.common.options import check_settings
    from lab.recurrent import settings as part3

    data = read_record(path, command)
    settings = {"kuzu_main.py": part1.Settings, "check_main.py": part2.Settings, "seq_train.py": part3.TrainSettings,
                "seq_plot.py": part3.PlotSettings, "seq_fsm.py": part3.MachineSettings,
                "seq_explain.py": part3.ExplainSettings}.get(data.get("command"))
    if settings:
        check_settings(settings, path, data.get("settings", {}), "settings")
    return data


def inside(folder, path):
    """``path`` (relative, as a record lists it) inside ``folder``, or None if it points outside."""
    if not isinstance(path, str) or not path or os.path.isabs(path):
        return None
    base = os.path.abspath(folder)
    full = os.path.normpath(os.path.join(base, path))
    return full if full.startswith(base + os.sep) else None


def image_problem(path):
    """Why the image at ``path`` cannot be shown (missing, empty, cut short, not an image), or None."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "is missing"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if path.lower().endswith((".jpg", ".jpeg")):
        if not data.startswith(b"\xff\xd8"):
            return "is not a JPEG image (no start marker)"
        if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            return "is cut short (no JPEG end marker)"
    elif not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "is not a PNG image"
    from matplotlib import image

    try:
        image.imread(path)
    except Exception as err:  # the image library raises many kinds for a damaged file
        return f"does not decode as an image ({type(err).__name__})"
    return None


def files_problem(folder, record):
    """Why the files a step's ``record`` lists are not all there and whole inside ``folder``, or None."""
    for path in record.get("files", []):
        full = inside(folder, path)
        if full is None:
            return f"it lists {path}, which is not inside the report's folder"
        if path.lower().endswith(IMAGES):
            problem = image_problem(full)
            if problem:
                return f"{path} {problem}"
        elif not os.path.isfile(full) or os.path.getsize(full) == 0:
            return f"{path} is missing or empty"
    return None


def expected_inputs(lang, n):
    """The input symbols of the string with this n, from the language's definition: n A's, then for each
    multiplier m the next symbol m*n times (a^n b^2n c^3n for multipliers 2 and 3)."""
    inputs = [0] * n
    for symbol, mult in enumerate(lang.mult, start=1):
        inputs += [symbol] * (mult * n)
    return inputs


def explanation_problem(folder, path, record):
    """Why the explanation record ``record`` (at ``path``, inside ``folder``) does not describe its network, or
    None: it is held against the checkpoint it names and against itself."""
    from lab.common.errors import UserError
    from lab.recurrent.languages import make_language
    from lab.recurrent.series import read_checkpoint

    results = record["results"]
    a = results["analysis"]
    checkpoint = inside(folder, results.get("checkpoint"))
    if checkpoint is None:
        return f"{path}: results.checkpoint names no network inside the report's folder"
    try:
        config = read_checkpoint(checkpoint)["config"]
    except UserError as err:
        return f"{path}: its network: {err}"
    length = record.get("settings", {}).get("length") or config["length"]
    said = {"lang": a["lang"], "model": a["model"], "hid": a["hid"], "length": a["length"]}
    true = {"lang": config["lang"], "model": config["model"], "hid": config["num_hid"], "length": length}
    for key in said:
        if said[key] != true[key]:
            return (f"{path}: analysis.{key} is {said[key]!r}, but its network "
                    f"({os.path.relpath(checkpoint, folder)}) has {true[key]!r}")
    try:
        lang = make_language(config["lang"], config.get("embed", False), length)
    except UserError as err:
        return f"{path}: its network's language: {err}"
    if not hasattr(lang, "mult"):
        return f"{path}: explains {config['lang']}, which is not a counting language"
    return trajectories_problem(path, a, lang)


def top_n(analysis):
    """The largest n an explanation read: its "top" (records older than seq_explain.py --beyond went to 2 x)."""
    return analysis.get("top", 2 * analysis["length"])


def trajectories_problem(path, analysis, lang):
    """Why the record's strings and states are not those of ``lang`` and the network's width, or None."""
    width = analysis["hid"] * (2 if analysis["model"] == "lstm" else 1)  # an LSTM's state: hidden, then cell units
    seen, top = set(), top_n(analysis)
    for i, t in enumerate(analysis["trajectories"]):
        where = f"{path}: analysis.trajectories[{i}]"
        if not 1 <= t["n"] <= top or t["n"] in seen:
            return f"{where}.n is {t['n']}, expected a new n from 1 to {top}"
        seen.add(t["n"])
        if t["inputs"] != expected_inputs(lang, t["n"]):
            return f"{where}.inputs are not the string of {lang.tag} with n = {t['n']}"
        if len(t["states"]) != len(t["inputs"]):
            return f"{where} has {len(t['states'])} states for {len(t['inputs'])} inputs"
        bad = next((j for j, s in enumerate(t["states"]) if len(s) != width), None)
        if bad is not None:
            return (f"{where}.states[{bad}] has {len(t['states'][bad])} values, expected {width} (the network's "
                    "state)")
    missing = [n for n in range(1, analysis["length"] + 1) if n not in seen]
    if missing:
        return f"{path}: analysis.trajectories lack the string with n = {missing[0]}"
    return None
