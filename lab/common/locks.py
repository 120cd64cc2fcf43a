"""A lock file per output series, so that two runs never write the same files at once.
"""
import contextlib
import os
import sys

from lab.common.errors import UserError
from lab.common.files import ensure_folder


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
