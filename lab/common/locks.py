"""A lock file per output series, so that two runs never write the same files at once (and ``held``: the same
with the operating system's file lock, which a killed run cannot leave behind).

The lock file says who holds it: the process id, when that process started
(field 22 of /proc/<pid>/stat, in clock ticks since boot, where there is a
/proc), the machine's boot, the host name and the command. A later run
takes over a lock whose holder has gone: no such process, or a process of
that id that started at another time or in another boot (the id was used
again), or a lock file left empty for a minute. A lock written on another
host cannot be checked from here and is refused, as is one held by a live
run; every refusal says how to clear the lock if its run has gone.
"""
import contextlib
import json
import os
import shlex
import socket
import sys

from lab.common.errors import UserError
from lab.common.files import ensure_folder, pid_alive

FRESH_S = 60  # a lock file younger than this that cannot be read yet may be in the middle of being written


def process_start(pid):
    """When process ``pid`` started (clock ticks since boot, /proc/<pid>/stat field 22), or None if unknown."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
        # the command name (field 2) is in parentheses and may hold spaces: count the fields after its end
        return int(stat[stat.rindex(")") + 1:].split()[19])
    except (OSError, ValueError, IndexError, OverflowError):
        return None


def boot_id():
    """This boot of the machine (Linux), or None."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def this_process():
    """What a lock records about the process that takes it."""
    pid = os.getpid()
    return {"pid": pid, "started": process_start(pid), "boot": boot_id(), "host": socket.gethostname(),
            "command": shlex.join([os.path.basename(sys.argv[0] or "python3"), *sys.argv[1:]])}


def holder_state(holder):
    """Whether the holder a lock names is "live", "gone" or "elsewhere" (another host: cannot be checked here)."""
    if holder.get("host") != socket.gethostname():
        return "elsewhere"
    if holder.get("boot") and boot_id() and holder["boot"] != boot_id():
        return "gone"  # the machine restarted since: every process of that boot has ended
    try:
        pid = int(holder.get("pid"))
    except (TypeError, ValueError):
        return "gone"  # no process id to check: the lock was never whole
    if not 0 < pid < 2**31 or not pid_alive(pid):  # beyond a C int no process can have that id
        return "gone"
    started = holder.get("started")
    if started is not None and process_start(pid) not in (None, started):
        return "gone"  # the id now belongs to a process that started later
    return "live"


def refusal(lock_path, what, holder, state):
    """The message that refuses a lock held by ``holder`` and says how to clear it."""
    who = f"process {holder.get('pid', '?')} ({holder.get('command', '?')})"
    clear = f"rm {shlex.quote(lock_path)}"
    if state == "elsewhere":
        return (f"{lock_path} says that {who} on the host {holder.get('host')!r} is writing {what}, and this host "
                f"({socket.gethostname()!r}) cannot check whether it still runs; if that run has ended (a "
                f"restarted container, another machine sharing this folder), remove the lock with `{clear}` and "
                f"run again")
    return (f"another run is writing {what}: {who} holds {lock_path}; wait for it to finish, or use another output "
            f"folder (if no such run is going on, remove the lock with `{clear}`)")


def _read_holder(lock_path):
    """What a lock file says about its holder ({} if it cannot be read or is not the lab's)."""
    try:
        with open(lock_path, encoding="utf-8") as handle:
            holder = json.load(handle)
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _unreadable_state(lock_path):
    """A lock file that says nothing readable: one being written right now ("live") or one cut short ("gone")."""
    import time

    try:
        return "live" if time.time() - os.stat(lock_path).st_mtime < FRESH_S else "gone"
    except OSError:
        return "gone"


def _take(lock_path, what):
    """Create the lock file for this process (taking over a stale one); returns its file descriptor."""
    for _ in range(2):
        try:
            return os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_holder(lock_path)
            state = holder_state(holder) if holder else _unreadable_state(lock_path)
            if state != "gone":
                raise UserError(refusal(lock_path, what, holder, state)) from None
            with contextlib.suppress(FileNotFoundError):
                os.remove(lock_path)  # stale: its run has ended
        except OSError as err:
            raise UserError(f"cannot write {lock_path}: {err.strerror or err}") from None
    raise UserError(f"cannot take the lock {lock_path}: another run took it at the same moment; if none is going "
                    f"on, remove it with `rm {shlex.quote(lock_path)}`")


@contextlib.contextmanager
def exclusive(lock_path, what):
    """Hold ``lock_path`` while this run writes ``what``; a second run at the same time is refused.

    A lock whose holder has gone (see holder_state) is taken over; any other
    is a UserError that names the holder and how to clear the lock. The lock
    is removed at the end, Ctrl-C and failures included.
    """
    ensure_folder(os.path.dirname(os.path.abspath(lock_path)))
    fd = _take(lock_path, what)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(this_process(), handle)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.remove(lock_path)
        raise UserError(f"cannot write {lock_path}: {err.strerror or err}") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock_path)


@contextlib.contextmanager
def held(lock_path, what, unwritable=None):
    """Hold an operating-system lock (flock) on ``lock_path`` while this run writes ``what``.

    ``unwritable(reason)`` gives the message when the lock file cannot be
    created (a read-only folder, ...); by default it names the lock file.

    The system lets go of the lock when its process ends, however it ends, so
    no lock is ever left behind by a killed run. A second run at the same time
    is refused with a UserError naming the holder. The file is removed at the
    end; a run that opened it just before that checks that the file it locked
    is still the one under the name, and opens it again if not.
    """
    import fcntl

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
                raise UserError(f"another run is writing {what}: {who}; wait for it to finish, or use another "
                                "output folder") from None
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
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(this_process()).encode())
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
