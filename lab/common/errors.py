"""Errors shown to the user as one sentence, and the wrapper that runs a command's main().

A ``UserError`` is printed as "error: ..." with exit status 1 and no
traceback; Ctrl-C gives 130 and "interrupted", a plain ``kill`` (SIGTERM)
143 and "terminated", a closed output pipe 141. Both signals are turned into
an exception while main() runs, so that its ``finally`` blocks remove locks
and half-built files and stop the programs it started. A command run as a
script then ends without the interpreter's slow teardown, so that a Ctrl-C
in its last moments still gives 130 and one line (see ``finish``).
"""
import atexit
import contextlib
import os
import signal
import sys


class UserError(Exception):
    """A problem with the user's input, flags or files: shown as a message, not a traceback."""



class CheckpointError(UserError):
    """A file that is not a readable checkpoint of the kind asked for, lacks a setting it needs, or holds bad values."""



class Diverged(UserError):
    """Training whose loss or weights became NaN or infinite: a result to state, with a non-zero exit."""



def first_line(err, default=""):
    """The first line of an exception's message (library errors can run to many lines)."""
    return (str(err).strip().splitlines() or [default])[0]



class Terminated(KeyboardInterrupt):
    """SIGTERM (a plain ``kill``) while a command runs: unwound like Ctrl-C, then exit status 143."""



def _terminate(signum, frame):
    """The SIGTERM handler while main() runs."""
    raise Terminated


def interrupted_status(err):
    """The exit status and line for a Ctrl-C or a SIGTERM."""
    return (143, "terminated") if isinstance(err, Terminated) else (130, "interrupted")


def _signals():
    """While main() runs, Ctrl-C raises KeyboardInterrupt and SIGTERM Terminated (except where a signal is ignored,
    as in a job started in the background); returns the handlers before, to put back."""
    before = {}
    for signum, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, _terminate)):
        current = signal.getsignal(signum)
        if current in (signal.SIG_DFL, signal.default_int_handler, _startup_exit):
            before[signum] = current
            signal.signal(signum, handler)
    return before


def _startup_exit(signum, frame):
    """Ctrl-C or SIGTERM while a command is still loading its libraries: nothing is written yet, so end at once."""
    status, line = interrupted_status(Terminated() if signum == signal.SIGTERM else KeyboardInterrupt())
    os.write(2, line.encode() + b"\n")
    os._exit(status)


def exit_quietly_on_ctrl_c():
    """Until main() runs, make Ctrl-C (and SIGTERM) end the command with 130 (143) and one line instead of a
    traceback from inside an import (lab/__init__.py calls this when a command of the lab is the program run)."""
    if not threading_main():
        return
    for signum, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(signum) is default:
            signal.signal(signum, _startup_exit)


def threading_main():
    """Whether this is the main thread (the only one that may set signal handlers)."""
    import threading

    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def signals_deferred():
    """Hold back Ctrl-C and SIGTERM for the block (such as starting a child process, which a signal arriving halfway
    would leave running with no one to stop it); one that arrived is raised as the block ends."""
    if not threading_main():
        yield
        return
    arrived, before = [], {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        before[signum] = signal.getsignal(signum)
        if callable(before[signum]):
            signal.signal(signum, lambda number, frame: arrived.append(number))
    try:
        yield
    finally:
        for signum, handler in before.items():
            if callable(handler):
                signal.signal(signum, handler)
        if arrived:
            signal.raise_signal(arrived[0])


def run_main(main, argv=None):
    """Run a script's ``main(argv)`` and turn user errors, Ctrl-C and SIGTERM into an exit status.

    Returns the exit status for ``sys.exit``: what main returned (0 if None),
    1 for a UserError or an exercise not done yet (NotImplementedError), 130
    for Ctrl-C, 143 for SIGTERM, 141 when the reader of stdout went away.
    Where ``main`` is the running script's own (a command), it does not return
    but ends the process (``finish``).
    """
    before = _signals() if threading_main() else {}
    try:
        status = _run(main, argv)
    except KeyboardInterrupt as err:  # a second Ctrl-C while the first was being handled
        status, line = interrupted_status(err)
        print(line, file=sys.stderr)
    finally:
        if getattr(main, "__module__", None) != "__main__":
            for signum, handler in before.items():
                signal.signal(signum, handler)
    if getattr(main, "__module__", None) == "__main__":
        finish(status)
    return status


def finish(status):
    """End the command with ``status``: flush the output, run the exit handlers, and leave without the
    interpreter's teardown (freeing torch and the rest takes a second or two, during which a Ctrl-C would end the
    process by the signal, with no line and no status of ours). A Ctrl-C or SIGTERM from here on gives 130 or 143
    and one line."""
    arrived = []
    try:
        if threading_main():  # a signal now is only noted: raised inside an exit handler it would print a traceback
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                    signal.signal(signum, lambda number, frame: arrived.append(number))
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BrokenPipeError:  # the reader of the output went away
                status = 141
            except (OSError, ValueError):  # a stream already closed
                pass
        atexit._run_exitfuncs()
    except KeyboardInterrupt as err:
        arrived.append(signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT)
    if arrived:
        status, line = (143, "terminated") if arrived[0] == signal.SIGTERM else (130, "interrupted")
        os.write(2, line.encode() + b"\n")
    os._exit(status)


def _run(main, argv):
    """main(argv), with its errors turned into an exit status (run_main's core)."""
    try:
        status = main(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except NotImplementedError as err:  # an exercise of the students' edition still to do (its stub says which)
        print(f"error: {first_line(err, 'an exercise is not done yet')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        status, line = interrupted_status(err)
        print(line, file=sys.stderr)
        return status
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
