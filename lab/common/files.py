"""Output folders and atomic writes: a failure or Ctrl-C never leaves half a file under its final name.

A write goes to ``.tmp-<pid>-<random>`` beside its file and is moved onto the
file's name when complete. A write killed outright (SIGKILL, power loss)
leaves its temporary file behind; the next write into that folder removes
such files once they are a minute old and their process has ended.
"""
import contextlib
import os
import re
import stat
import tempfile
import time

from lab.common.errors import UserError, first_line


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



TMP_PREFIX = ".tmp-"
STALE_TMP_S = 60  # a temporary file untouched this long, whose process has ended, is a killed write's leftover
_TMP_PID = re.compile(r"\.tmp-(\d+)-")


def pid_alive(pid):
    """Whether a process ``pid`` runs on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_leftovers(folder):
    """Remove the temporary files killed writes left in ``folder`` (see the module's docstring); never fails."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TMP_PREFIX)]
    except OSError:
        return
    now = time.time()
    for name in names:
        path = os.path.join(folder, name)
        match = _TMP_PID.match(name)
        try:
            info = os.lstat(path)
            if (not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_TMP_S
                    or (match and pid_alive(int(match.group(1))))):
                continue  # not a file, still being written, or its writer may still be at it
            os.remove(path)
        except OSError:
            continue


def atomic_write(path, write):
    """Call ``write(tmp_path)``, then move the finished file onto ``path`` in one step."""
    folder = os.path.dirname(os.path.abspath(path))
    ensure_folder(folder)
    remove_leftovers(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=os.path.splitext(path)[1])
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

    atomic_write(path, lambda tmp: torch.save(obj, tmp))



def atomic_write_text(text, path):
    """Write ``text`` to ``path`` atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)

    atomic_write(path, write)
