"""Plumbing shared by the lab's scripts.

What all three parts need the same way: errors reported to the user without a
traceback, seeded randomness, the choice of device, files (checkpoints,
plots) written atomically so that a failure or Ctrl-C never leaves a half
file behind, and matplotlib that works without a display.
"""
import argparse
import contextlib
import math
import os
import random
import sys
import tempfile


class UserError(Exception):
    """A problem with the user's input, flags or files: shown as a message, not a traceback."""


class Diverged(UserError):
    """Training whose loss or weights became NaN or infinite: a result to state, with a non-zero exit."""


def first_line(err, default=""):
    """The first line of an exception's message (library errors can run to many lines)."""
    return (str(err).strip().splitlines() or [default])[0]


def run_main(main, argv=None):
    """Run a script's ``main(argv)`` and turn user errors and Ctrl-C into an exit status.

    Returns the exit status for ``sys.exit``: what main returned (0 if None),
    1 for a UserError, 130 for Ctrl-C, 141 when the reader of stdout went away.
    """
    try:
        status = main(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this run; try smaller sizes or fewer sequences", file=sys.stderr)
        return 1
    except RuntimeError as err:
        if "can't allocate memory" not in str(err) and "out of memory" not in str(err):
            raise
        print(f"error: not enough memory for this run ({first_line(err)}); try smaller sizes", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like, which stopped reading
        sys.stderr.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0 if status is None else status


FLOAT32_MAX = 3.4028234663852886e38  # the largest float torch's default dtype holds
SEED_MAX = 2**32 - 1  # numpy's generators take seeds up to this


def number(kind, low=None, above=None, high=None):
    """An argparse type for a finite number of ``kind`` (int or float): at least ``low``, above ``above``, at most ``high``.

    Floats must also fit torch's float32, so a learning rate of 1e40 is refused here, not by an overflow later.
    """
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or (kind is float and abs(value) > FLOAT32_MAX):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number (float32 holds up to 3.4e38)")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be above {above}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {text}")
        return value
    return parse


def positive(kind):
    """An argparse type for numbers of ``kind`` that must be above zero."""
    return number(kind, above=0)


def seed_number():
    """The argparse type of --seed in every command: a whole number from 0 to SEED_MAX."""
    return number(int, low=0, high=SEED_MAX)


def seed_everything(seed):
    """Seed Python's, numpy's and torch's generators, so a command repeats its numbers on the CPU."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def torch_threads(count):
    """Run the block with ``count`` torch CPU threads, then restore the count there was."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pick_device(name="auto", no_cuda=False):
    """Return the torch.device for ``name`` in {auto, cpu, cuda, mps}.

    ``auto`` takes CUDA, then Apple's MPS, then the CPU; ``no_cuda`` (the
    course's flag) rules CUDA out. Asking for a device that is not there is a
    UserError.
    """
    import torch

    cuda_ok = torch.cuda.is_available() and not no_cuda
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    elif name == "cuda" and not cuda_ok:
        why = "--no_cuda was given" if no_cuda else "torch sees no CUDA device here"
        raise UserError(f"--device cuda asked for, but {why}; use --device cpu or auto")
    elif name == "mps" and not mps_ok:
        raise UserError("--device mps asked for, but this torch has no MPS device; use --device cpu or auto")
    return torch.device(name)


@contextlib.contextmanager
def exclusive(lock_path, what):
    """Hold ``lock_path`` while this run writes ``what``; a second run at the same time is refused.

    The lock file names the process that holds it. A lock left by a process
    that no longer runs (on this machine) is taken over; one held by a live
    process gives a UserError naming it. The lock is removed at the end,
    Ctrl-C and failures included.
    """
    import json
    import socket

    ensure_folder(os.path.dirname(os.path.abspath(lock_path)))
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
    for _ in range(2):
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            holder = _lock_holder(lock_path)
            if holder is not None and _alive(holder, socket.gethostname()):
                raise UserError(f"another run is writing {what}: process {holder.get('pid')} "
                                f"({holder.get('command', '?')}) holds {lock_path}; wait for it to finish, or "
                                f"use another output folder") from None
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock_path)  # stale: its process has ended
        except OSError as err:
            raise UserError(f"cannot write {lock_path}: {err.strerror or err}") from None
    else:
        raise UserError(f"cannot take the lock {lock_path}")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(mine, handle)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.remove(lock_path)
        raise UserError(f"cannot write {lock_path}: {err.strerror or err}") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock_path)


def _lock_holder(lock_path):
    """What a lock file says about its holder, or None if it cannot be read."""
    import json

    try:
        with open(lock_path, encoding="utf-8") as handle:
            holder = json.load(handle)
        return holder if isinstance(holder, dict) else None
    except (OSError, ValueError):
        return None


def _alive(holder, host):
    """Whether the process named by a lock still runs (a lock from another machine counts as live)."""
    if holder.get("host") != host:
        return True
    try:
        os.kill(int(holder.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def refuse_file(folder, flag):
    """A UserError when the output folder given by ``flag`` is an existing file."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UserError(f"{flag} {folder} is a file, not a folder")


def ensure_folder(folder):
    """Create ``folder`` (and its parents) if needed; a UserError if that is impossible."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the folder {folder}: {err.strerror or err}") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write into the folder {folder}")


def _atomic_write(path, write):
    """Call ``write(tmp_path)``, then move the finished file onto ``path`` in one step."""
    folder = os.path.dirname(os.path.abspath(path))
    ensure_folder(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, path)
    except UserError:
        raise
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    except Exception as err:  # torch.save and savefig raise RuntimeError and others on a full disk
        reason = first_line(err, type(err).__name__)
        if _nearly_full(folder):
            reason = f"no space left on the device ({reason})"
        raise UserError(f"cannot write {path}: {reason}") from None
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def _nearly_full(folder):
    """Whether the file system holding ``folder`` has less than 1 MiB free."""
    import shutil

    try:
        return shutil.disk_usage(folder).free < 2**20
    except OSError:
        return False


def atomic_torch_save(obj, path):
    """torch.save ``obj`` to ``path`` so that the old file stays whole until the new one is complete."""
    import torch

    _atomic_write(path, lambda tmp: torch.save(obj, tmp))


def atomic_write_text(text, path):
    """Write ``text`` to ``path`` atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)

    _atomic_write(path, write)


def pyplot(show=False):
    """Return matplotlib.pyplot, on the file-only Agg backend unless ``show`` and a display exist."""
    import matplotlib

    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")
    if not (show and has_display):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, **savefig_kwargs):
    """Save a matplotlib figure atomically (format from the file's extension) and close it."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    fmt = "jpeg" if fmt == "jpg" else fmt
    try:
        _atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, **savefig_kwargs))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path
