"""One run at a time per output: an operating-system file lock (flock) on a lock file beside the outputs.

The system lets go of the lock when its process ends, however it ends, so a
killed run never leaves a lock that blocks the next one: a lock file that is
still there but not locked is simply taken. The file says who holds it (the
process id and the command), so that a refusal can name the running holder.
"""
import contextlib
import fcntl
import json
import os
import shlex
import sys

from lab.common.errors import UserError


def this_process():
    """What a lock file records about the process that holds it."""
    return {"pid": os.getpid(), "command": shlex.join([os.path.basename(sys.argv[0] or "python3"), *sys.argv[1:]])}


@contextlib.contextmanager
def held(lock_path, what, unwritable=None):
    """Hold the lock ``lock_path`` while this run writes ``what``; a second run at the same time is refused.

    The refusal is a UserError naming the holder and the lock file.
    ``unwritable(reason)`` gives the message when the lock file cannot be
    created (a read-only folder, ...); by default it names the lock file. The
    file is removed at the end; a run that opened it just before that checks
    that the file it locked is still the one under the name, and opens it again
    if not.
    """
    for _ in range(3):
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as err:
            reason = err.strerror or str(err)
            raise UserError(unwritable(reason) if unwritable else f"cannot write {lock_path}: {reason}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_fd(fd)
            os.close(fd)
            if isinstance(err, BlockingIOError):
                who = f"process {holder.get('pid', '?')} ({holder.get('command', '?')})"
                raise UserError(f"another run is writing {what}: {who} holds {lock_path}; wait for it to finish, "
                                "or use another output folder") from None
            raise UserError(f"cannot lock {lock_path}: {err.strerror or err}") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except OSError:
            same = False
        if same:
            break
        os.close(fd)  # the run before removed the file between our open and our lock: open the new one
    else:
        raise UserError(f"cannot take the lock {lock_path}: other runs keep taking it; try again")
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(this_process()).encode())
        except OSError as err:
            raise UserError(f"cannot write {lock_path}: {err.strerror or err}") from None
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock_path)
        os.close(fd)


def _read_fd(fd):
    """What an open lock file says about its holder ({} if nothing readable)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        holder = json.loads(os.read(fd, 65536) or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
