"""One question's check in its own process: ``python3 child.py KEY FOLDER GRADER_ROOT OPTIONS_JSON``.

Run by lab/teaching/grader.py with the student's folder as the working
directory. The lab's package comes from the grader's own copy, the course
files from the student's folder. The last line of stdout is ``RESULT``
followed by a JSON object: awarded (a share of the marks, 0 or 1) and why.
"""
import json
import os
import sys
import traceback

RESULT = "AUTOGRADER-RESULT "


def _where(err, folder):
    """' (kuzu.py line 52)': the last place in the student's folder the error passed through, or ''."""
    folder = os.path.realpath(folder)
    places = [frame for frame in traceback.extract_tb(err.__traceback__)
              if os.path.realpath(frame.filename).startswith(folder + os.sep)]
    if not places:
        return ""
    return f" ({os.path.relpath(places[-1].filename, folder)} line {places[-1].lineno})"


def judge(key, folder, options):
    """Run the question's check; every failure becomes (0, a sentence)."""
    from lab.teaching.checks import CHECKS, Fault
    try:
        return CHECKS[key](folder, options)
    except Fault as err:
        return 0.0, str(err)
    except NotImplementedError as err:
        message = (str(err).strip().splitlines() or [""])[0]
        return 0.0, message if "not done yet" in message else f"not done yet: {message or 'a stub is left'}"
    except SyntaxError as err:
        name = os.path.basename(err.filename or "a course file")
        return 0.0, f"{name} does not compile: line {err.lineno}: {err.msg}"
    except ModuleNotFoundError as err:
        return 0.0, f"cannot import {err.name}: is {err.name}.py in {folder}?"
    except Exception as err:  # the student's code may fail in any way; report it, do not crash the marker
        message = (str(err).strip().splitlines() or [""])[0][:300]
        return 0.0, f"your code raised {type(err).__name__}{_where(err, folder)}: {message}"


def main(argv):
    """Set up the paths, run the check, print the result line."""
    key, folder, grader_root, options = argv[0], os.path.abspath(argv[1]), argv[2], json.loads(argv[3])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, grader_root)
    import lab  # noqa: F401  the grader's own package, before the student's folder is on the path
    sys.path.remove(grader_root)
    sys.path.insert(0, folder)
    import torch
    torch.set_num_threads(1)
    awarded, why = judge(key, folder, options)
    sys.stdout.flush()
    print("\n" + RESULT + json.dumps({"awarded": awarded, "why": why}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
