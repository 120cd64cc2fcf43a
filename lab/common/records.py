"""Run records: every command leaves a JSON file saying what it ran, where, and what came out.

A record holds the exact command line, every setting (defaults resolved),
the seed, the versions of Python and the libraries, the machine (CPU model
and vector extensions, thread count, device), the wall time, the files
written and the results. The report and the benchmark scripts read these
files instead of the printed text. Records are written atomically.
"""
import datetime
import json
import os
import platform
import shlex
import sys
import time

from lab.common.errors import UserError, first_line
from lab.common.files import atomic_write_text
from lab.common.schema import check_record

VERSION = 1


def cpu_name():
    """The CPU's model name and its widest vector extension, e.g. ``AMD EPYC (AVX-512)``."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = (part.strip() for part in line.partition(":"))
                if key == "model name" and model is None:
                    model = value
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "NEON" if "asimd" in flags else ""
    return f"{model} ({vector})" if vector else model


def versions():
    """Python's and the libraries' versions."""
    found = {"python": platform.python_version()}
    for name in ("torch", "torchvision", "numpy", "matplotlib"):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = __import__(name)
            except ImportError:
                continue
        found[name] = getattr(module, "__version__", "?")
    return found


def machine(device="cpu", threads=None):
    """Where the run ran: CPU, cores, torch threads, device (and the GPU's name on CUDA)."""
    import torch

    where = {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(),
             "threads": threads if threads is not None else torch.get_num_threads(), "device": str(device)}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        where["gpu"] = torch.cuda.get_device_name(0)
    return where


class Record:
    """A run's record, filled in while it runs and written at the end with ``write``."""

    def __init__(self, command, argv, settings):
        self.started = time.perf_counter()
        self.data = {
            "record_version": VERSION,
            "command": command,
            "command_line": "python3 " + shlex.join([command, *(sys.argv[1:] if argv is None else argv)]),
            "started_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "settings": dict(settings),
            "seed": settings.get("seed"),
            "versions": versions(),
            "files": [],
            "results": {},
        }

    @property
    def results(self):
        """The results dict, for the command to fill in."""
        return self.data["results"]

    def wrote(self, *paths):
        """Note files the run wrote."""
        self.data["files"].extend(str(p) for p in paths if p)

    def write(self, path, device="cpu", threads=None):
        """Finish (wall time, machine) and write the record to ``path`` atomically; returns the path."""
        self.data["wall_time_s"] = round(time.perf_counter() - self.started, 3)
        self.data["machine"] = machine(device, threads)
        atomic_write_text(json.dumps(self.data, indent=1, default=plain) + "\n", path)
        return path


def plain(value):
    """JSON for numpy and torch values (arrays become lists, scalars numbers)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot put a {type(value).__name__} into a record")


def read_record(path, command=None):
    """Load a record and check it against the record format (and ``command``'s results, when given).

    A missing, unreadable or damaged file is a UserError naming it and, for
    a damaged one, the field at fault.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise UserError(f"no run record {path}") from None
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read the run record {path}: {first_line(err, type(err).__name__)}") from None
    if not isinstance(data, dict) or "results" not in data:
        raise UserError(f"{path} is not a run record of this lab")
    return check_record(path, data, command)
