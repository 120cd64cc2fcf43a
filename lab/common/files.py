"""Output folders and atomic writes: a failure or Ctrl-C never leaves half a file under its final name.
"""
import contextlib
import os
import tempfile

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



def atomic_write(path, write):
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

    atomic_write(path, lambda tmp: torch.save(obj, tmp))



def atomic_write_text(text, path):
    """Write ``text`` to ``path`` atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)

    atomic_write(path, write)
