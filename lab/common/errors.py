"""Errors shown to the user as one sentence, and the wrapper that runs a command's main().

A ``UserError`` is printed as "error: ..." with exit status 1 and no
traceback; Ctrl-C gives 130 and a closed output pipe 141.
"""
import os
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



def run_main(main, argv=None):
    """Run a script's ``main(argv)`` and turn user errors and Ctrl-C into an exit status.

    Returns the exit status for ``sys.exit``: what main returned (0 if None),
    1 for a UserError or an exercise not done yet (NotImplementedError), 130 for Ctrl-C, 141 when the reader of stdout went away.
    """
    try:
        status = main(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except NotImplementedError as err:  # an exercise of the students' edition still to do (its stub says which)
        print(f"error: {first_line(err, 'an exercise is not done yet')}", file=sys.stderr)
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
