"""What each file the lab reads must hold, said once per format, and the one walk that checks a file against it.

A spec says what a value must be; every one takes ``nullable=True`` (None
is allowed too) and ``optional=True`` (its key may be missing):

    whole(1, 1024)              a whole number (not true/false) from 1 to 1024
    number(above=0, below=1)    an int or float, finite unless finite=False
    text(choices=(...))         a string
    flag()                      true or false
    listing(item, length=10)    a list or tuple, each item an ``item``
    row(spec, spec, ...)        a list or tuple of exactly these items, in this order
    mapping(value)              a dict with any keys, each value a ``value``
    fields({"name": spec})      a dict with these keys (other keys are let be)
    tensor(dtype="uint8", ndim=1)  a torch tensor, finite unless finite=False
    either(spec, spec)          whichever fits

``check(path, value, spec)`` raises one sentence naming the file, the place
in it (``config.num_hid``, ``resume.optimizer.param_groups``) and what is
wrong. The formats: the lab's checkpoints (``check_checkpoint``), the
states --resume goes on from (``check_seq_resume``, ``check_kuzu_resume``),
run records (``RECORD``, ``check_record``) and the report's manifest
(``MANIFEST``). The settings these files hold are not here: each part checks
them with the flags that declare them (lab.common.options.check_settings).
"""
import math
from dataclasses import dataclass

from lab.common.errors import CheckpointError, UserError


@dataclass(frozen=True)
class Spec:
    """What one value must be (see the module's docstring for the constructors that make these)."""

    kind: str  # whole, number, text, flag, list, row, map, fields, tensor, either
    low: float = None  # at least
    high: float = None  # at most
    above: float = None
    below: float = None
    choices: tuple = None
    finite: bool = True
    item: "Spec" = None  # each item of a list, each value of a map
    keys: tuple = ()  # fields: (name, spec) pairs
    options: tuple = ()  # either: the specs that may fit; row: the spec of each item
    length: int = None  # a list's exact number of items
    dtype: str = None  # a tensor's dtype, as torch names it without "torch."
    ndim: int = None  # a tensor's number of dimensions
    nullable: bool = False
    optional: bool = False


def whole(low=None, high=None, **more):
    """A whole number from ``low`` to ``high`` (true/false does not count)."""
    return Spec("whole", low=low, high=high, **more)


def number(low=None, high=None, **more):
    """An int or float from ``low`` to ``high`` (also ``above``, ``below``); finite unless finite=False."""
    return Spec("number", low=low, high=high, **more)


def text(choices=None, **more):
    """A string, one of ``choices`` if given."""
    return Spec("text", choices=tuple(choices) if choices else None, **more)


def flag(**more):
    """True or false."""
    return Spec("flag", **more)


def listing(item=None, **more):
    """A list or tuple whose every item is an ``item`` (anything if None)."""
    return Spec("list", item=item, **more)


def row(*items, **more):
    """A list or tuple of exactly ``len(items)`` values, each fitting the spec in its place."""
    return Spec("row", options=items, **more)


def mapping(item=None, **more):
    """A dict with any keys, whose every value is an ``item`` (anything if None)."""
    return Spec("map", item=item, **more)


def fields(named, **more):
    """A dict holding the keys of ``named`` ({key: spec}); keys it does not name are not checked."""
    return Spec("fields", keys=tuple(named.items()), **more)


def tensor(**more):
    """A torch tensor (``dtype``, ``ndim``), finite unless finite=False."""
    return Spec("tensor", **more)


def either(*options, **more):
    """A value that fits any one of ``options``."""
    return Spec("either", options=options, **more)


# --- the walk ------------------------------------------------------------------------------------------------

def check(path, value, spec, where="", error=UserError):
    """Check ``value`` (read from the file ``path``) against ``spec``; returns the value.

    ``where`` names the value inside the file (e.g. ``config``). A problem
    raises ``error`` with one sentence naming the file, the place and what
    is wrong.
    """
    found = problem(value, spec, where)
    if found:
        place, what = found
        raise error(f"{path}: {place or 'its content'} {what}")
    return value


def problem(value, spec, where):
    """(place, what is wrong) for the first problem of ``value`` at ``where``, or None."""
    if value is None and spec.nullable:
        return None
    if spec.kind == "either":
        fits = any(problem(value, option, where) is None for option in spec.options)
        return None if fits else _wrong(value, spec, where)
    if not _is_kind(value, spec.kind):
        return _wrong(value, spec, where)
    inside = {"list": _list_problem, "row": _row_problem, "map": _map_problem, "fields": _fields_problem,
              "tensor": _tensor_problem}
    if spec.kind in inside:
        return inside[spec.kind](value, spec, where)
    if (spec.kind == "number" and spec.finite and not math.isfinite(value)) or not _in_range(value, spec):
        return _wrong(value, spec, where)
    return None


def _wrong(value, spec, where):
    """The problem of a value that is not what its spec asks for."""
    return where, f"is {_shown(value)}, expected {describe(spec)}"


def _is_kind(value, kind):
    """Whether ``value`` is of the spec's kind, before its range and contents are looked at."""
    if kind == "whole":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "tensor":
        return type(value).__module__.startswith("torch") and hasattr(value, "dtype") and hasattr(value, "shape")
    return isinstance(value, {"text": str, "flag": bool, "list": (list, tuple), "row": (list, tuple), "map": dict, "fields": dict}[kind])


def _in_range(value, spec):
    """Whether a number or text is within the spec's bounds and choices."""
    if spec.choices is not None and value not in spec.choices:
        return False
    if spec.kind not in ("whole", "number"):
        return True
    return not ((spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high)
                or (spec.above is not None and not value > spec.above)
                or (spec.below is not None and not value < spec.below))


def _list_problem(value, spec, where):
    """A list's length, then each item."""
    if spec.length is not None and len(value) != spec.length:
        return where, f"has {len(value)} items, expected {spec.length}"
    if spec.low is not None and len(value) < spec.low:
        return where, f"has {len(value)} items, expected at least {spec.low}"
    for i, item in enumerate(value if spec.item else ()):
        found = problem(item, spec.item, f"{where}[{i}]")
        if found:
            return found
    return None


def _row_problem(value, spec, where):
    """A row's length, then each item against the spec in its place."""
    if len(value) != len(spec.options):
        return where, f"has {len(value)} items, expected {len(spec.options)}"
    for i, (item, item_spec) in enumerate(zip(value, spec.options)):
        found = problem(item, item_spec, f"{where}[{i}]")
        if found:
            return found
    return None


def _map_problem(value, spec, where):
    """Each value of a dict with any keys."""
    for key, item in (value.items() if spec.item else ()):
        found = problem(item, spec.item, _inside(where, key))
        if found:
            return found
    return None


def _fields_problem(value, spec, where):
    """Each named key: there (unless optional), and what its spec asks for."""
    for name, field in spec.keys:
        if name not in value:
            if field.optional:
                continue
            return _inside(where, name), "is missing"
        found = problem(value[name], field, _inside(where, name))
        if found:
            return found
    return None


def _tensor_problem(value, spec, where):
    """A tensor's dtype and dimensions, then its values: no NaN, no infinity (unless finite=False)."""
    import torch

    if (spec.dtype is not None and str(value.dtype) != f"torch.{spec.dtype}") or (
            spec.ndim is not None and value.dim() != spec.ndim):
        return _wrong(value, spec, where)
    if spec.finite and (torch.is_floating_point(value) or torch.is_complex(value)):
        if bool(torch.isnan(value).any()):
            return where, "holds NaN (not a number), expected finite values"
        if not bool(torch.isfinite(value).all()):
            return where, "holds infinity, expected finite values"
    return None


def _inside(where, key):
    """The place of ``key`` inside ``where``: where.key, or where[key] for keys that are not names."""
    if isinstance(key, str) and key.isidentifier():
        return f"{where}.{key}" if where else key
    return f"{where}[{key!r}]"


def _shown(value):
    """A value as a message shows it: short, and the type for containers."""
    if type(value).__module__.startswith("torch") and hasattr(value, "shape"):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} item(s)"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, (bool, int, float, str)) or value is None:
        shown = repr(value)
        return shown if len(shown) <= 40 else shown[:37] + "..."
    return f"a {type(value).__name__}"


def describe(spec):
    """What a spec asks for, in words: 'a whole number from 1 to 1024', 'one of srn, lstm'."""
    if spec.kind == "either":
        words = " or ".join(describe(option) for option in spec.options)
    elif spec.choices is not None:
        words = "one of " + ", ".join(str(c) for c in spec.choices)
    else:
        words = {"whole": "a whole number", "number": "a finite number" if spec.finite else "a number",
                 "text": "text", "flag": "true or false", "list": "a list", "map": "a dict", "fields": "a dict",
                 "row": f"a list of {len(spec.options)} items", "tensor": "a tensor"}[spec.kind]
        words += _bounds(spec)
        if spec.kind == "tensor":
            words += "".join(part for part in (f" of {spec.dtype}" if spec.dtype else "",
                                               f" with {spec.ndim} dimension(s)" if spec.ndim is not None else ""))
        if spec.kind == "list" and spec.length is not None:
            words += f" of {spec.length} items"
    return words + (" or None" if spec.nullable else "")


def _bounds(spec):
    """' from 1 to 1024', ' of at least 0', ' above 0 and below 1', or '' (numbers only)."""
    if spec.kind not in ("whole", "number"):
        return ""
    if spec.low is not None and spec.high is not None:
        return f" from {spec.low} to {spec.high}"
    parts = [f"at least {spec.low}" if spec.low is not None else "", f"above {spec.above}" if spec.above is not None
             else "", f"at most {spec.high}" if spec.high is not None else "",
             f"below {spec.below}" if spec.below is not None else ""]
    return "".join(" " + p for p in [" and ".join(p for p in parts if p)] if p)


# --- the lab's checkpoints (lab.common.checkpoints) -----------------------------------------------------------

WEIGHTS = mapping(tensor())  # a network's state dict: finite tensors
CHECKPOINT = {  # kind -> the whole file, but for "resume" and the settings, which each part checks with its flags
    "seq": fields({
        "format": text(optional=True), "state_dict": WEIGHTS,
        "config": fields({"num_input": whole(1, 1024), "num_out": whole(1, 1024)}),  # the language's symbols
        "seen": whole(0, optional=True), "loss": number(0, optional=True, nullable=True),
        "candidate": whole(0, optional=True, nullable=True), "chosen_for_good": flag(optional=True)}),
    "kuzu": fields({
        "format": text(optional=True), "state_dict": WEIGHTS,
        "epoch": whole(1, optional=True), "accuracy": number(0, 1, optional=True), "args": mapping(optional=True)}),
}

OPTIMIZER = fields({  # torch's Optimizer.state_dict(): per parameter its buffers, and the parameter groups
    "state": mapping(mapping(either(tensor(), number(), nullable=True))),
    "param_groups": listing(fields({"params": listing(whole(0)), "lr": number(0)}), low=1)})
PCG64 = fields({  # numpy's default_rng().bit_generator.state
    "bit_generator": text(("PCG64",)), "state": fields({"state": whole(0, 2**128 - 1), "inc": whole(0, 2**128 - 1)}),
    "has_uint32": whole(0, 1), "uinteger": whole(0, 2**32 - 1)})
SEQ_RESUME = fields({  # lab.recurrent.series.resume_state: what seq_train.py --resume goes on from
    "settings": mapping(),  # checked with seq_train.py's flags (seq_models.check_settings)
    "model": mapping(tensor(finite=False)),  # a population may hold a candidate that diverged
    "optimizer": OPTIMIZER, "rng": PCG64,
    "progress": fields({
        "seen": whole(0), "reports": listing(row(whole(0), number())), "last": text(nullable=True),
        "chosen": whole(0, 63), "final_choice": flag(),
        "candidate_losses": listing(number(finite=False), nullable=True),
        "provisional": listing(row(whole(0), text(), mapping(tensor(finite=False)),
                                   listing(number(finite=False), nullable=True)))})})
KUZU_RESUME = fields({  # kuzu_main.py --save: what --resume goes on from
    "epochs": listing(fields({"epoch": whole(1), "train_loss": number(), "test_loss": number(),
                              "correct": whole(0), "accuracy": number(0, 100)})),
    "optimizer": OPTIMIZER, "scheduler": fields({"last_epoch": whole(-1), "base_lrs": listing(number())}),
    "rng": tensor(dtype="uint8", ndim=1),
    "weights": mapping(tensor(), optional=True), "average_steps": whole(0, optional=True)})  # with --ema


def check_checkpoint(path, ckpt, kind):
    """Check a loaded checkpoint of ``kind`` (seq or kuzu) against its format, resume state included if any."""
    check(path, ckpt, CHECKPOINT[kind], error=CheckpointError)
    if "resume" in ckpt:
        check_seq_resume(path, ckpt["resume"]) if kind == "seq" else check_kuzu_resume(path, ckpt)
    return ckpt


def check_seq_resume(path, state):
    """Check the state seq_train.py --resume goes on from (a checkpoint's "resume"); returns it.

    A CheckpointError names the file and the flaw: no state at all, a
    missing or wrong-typed part, a candidate that does not exist, or (for a
    single network) weights that are not finite.
    """
    if not isinstance(state, dict):
        raise CheckpointError(f"--resume: {path} holds no state to go on from (it was not the last checkpoint of "
                              "a run)")
    check(path, state, SEQ_RESUME, "resume", CheckpointError)
    candidates = state["settings"].get("candidates") or 1
    if state["progress"]["chosen"] >= candidates:
        raise CheckpointError(f"{path}: resume.progress.chosen is {state['progress']['chosen']}, expected a "
                              f"candidate below {candidates}")
    if candidates == 1:  # a single network's weights must be finite; only a population may hold a diverged one
        check(path, state["model"], WEIGHTS, "resume.model", CheckpointError)
    return state


def check_kuzu_resume(path, ckpt):
    """Check what kuzu_main.py --resume goes on from (the checkpoint's args, epoch and resume); returns ``ckpt``.

    A CheckpointError names the file and the flaw.
    """
    import torch

    if not isinstance(ckpt.get("resume"), dict):
        raise CheckpointError(f"--resume: {path} holds no state to go on from")
    check(path, ckpt, fields({"args": mapping(), "epoch": whole(1), "resume": KUZU_RESUME}), error=CheckpointError)
    size = ckpt["resume"]["rng"].numel()
    if size != torch.get_rng_state().numel():
        raise CheckpointError(f"{path}: resume.rng holds {size} bytes, expected torch's "
                              f"{torch.get_rng_state().numel()}-byte random state")
    return ckpt


# --- run records (lab.common.records) and the report's manifest (report.py) ----------------------------------

RECORD = fields({  # every command's run record, as lab.common.records.Record writes it
    "command": text(), "files": listing(text()), "results": mapping(),
    "wall_time_s": number(0, optional=True), "settings": mapping(optional=True)})
RESULTS = {  # the results of each command's record, as far as the report reads them (lab.report.content)
    "kuzu_main.py": fields({
        "accuracy": number(0, 100), "correct": whole(0), "test_images": whole(1), "parameters": whole(1),
        "arithmetic": listing(text()), "epochs": listing(mapping(), low=1), "classes": listing(text(), length=10),
        "confusion": listing(listing(whole(0), length=10), length=10),
        "most_confused": listing(fields({"true": text(), "chosen": text(), "count": whole(0)})),
        "why_confused": listing(text(), optional=True, nullable=True)}),
    "check_main.py": fields({
        "accuracy": number(0, 100), "trained": flag(optional=True), "reached": flag(optional=True),
        "epochs": whole(0, optional=True), "restarts": whole(0, optional=True),
        "dividing_lines": listing(text()), "activation_table": text()}),
    "seq_train.py": fields({
        "verdict": fields({"det_right": whole(0), "det_total": whole(0), "sequences": whole(0), "loss": number(0)}),
        "candidates": whole(1), "chosen": whole(0, nullable=True), "chosen_at": whole(0, nullable=True),
        "sequences_seen": whole(0), "target_loss": number(0), "learned": flag()}),
    "seq_plot.py": fields({}),
    "seq_fsm.py": fields({
        "machine": fields({"states": listing()}), "raw_machine": fields({"states": listing()}, optional=True),
        "merged": fields({"states": whole(0)}), "criterion_met": flag(),
        "validation": listing(fields({
            "set": text(), "deterministic": whole(0), "machine_right": number(0, 1), "network_right": number(0, 1),
            "machine_equals_network": number(0, 1), "stuck": whole(0), "nearest_state": number(0, 1)})),
        "context_summary": listing(fields({"unit": text(), "phase": text(), "rate": number(), "sd": number(0),
                                           "steady": flag()}), optional=True, nullable=True)}),
    "seq_explain.py": fields({
        "sentences": listing(text()),
        "analysis": fields({
            "lang": text(), "model": text(("srn", "lstm")), "hid": whole(1, 1024), "length": whole(0),
            "decisions": listing(fields({"then": text(), "phase": text(), "unit": text(), "direction": text(),
                                         "threshold": number(), "separates": number(0, 1),
                                         "network_right": number(0, 1)})),
            "rates": listing(fields({"unit": text(), "phase": text(), "rate": number(), "r2": number(finite=False),
                                     "spread": number(finite=False), "verdict": text()})),
            "trajectories": listing(fields({"n": whole(0), "inputs": listing(whole(0)),
                                            "states": listing(listing(number()))}))})}),
}
TRAINED_CHECK = fields({"epochs": whole(0), "restarts": whole(0)})  # check_main.py's results of a trained network
STEP_STATUSES = ("pending", "ok", "reused", "failed", "skipped")
MANIFEST = fields({"results": fields({  # report.py's report.json: what each step of the report was
    "quick": flag(optional=True),
    "steps": mapping(fields({
        "command": text(optional=True), "args": listing(text()), "status": text(STEP_STATUSES),
        "seconds": number(0), "record": text(), "message": text(optional=True),
        "data": text(optional=True, nullable=True)}))})})


def check_record(path, data, command=None):
    """Check a run record against RECORD and, for ``command`` (e.g. "seq_train.py"), its results; returns it."""
    check(path, data, RECORD)
    if command in RESULTS:
        check(path, data["results"], RESULTS[command], "results")
        if command == "check_main.py" and data["results"].get("trained"):
            check(path, data["results"], TRAINED_CHECK, "results")
        if command == "kuzu_main.py":
            check(path, data, fields({"wall_time_s": number(0)}))
    return data
