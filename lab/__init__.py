"""The lab's machinery, under the course's files and the lab's commands at the top level.

common      what every part needs: errors as sentences, number options, seeding and devices,
            atomic files, locks, figures, the checkpoint format and run records
characters  Part 1: KMNIST data, training and evaluation, plots
recurrent   Part 3: languages and their states, training, checkpoint series, tracing, plots
machines    Part 3: finite-state machines extracted from a network, their layout, drawing and text
report      report.py's steps, content and document
"""
import os as _os
import sys as _sys

# A command of the lab being started (python3 kuzu_main.py ...): a Ctrl-C while it still loads torch and the rest
# ends it with status 130 and one line, not a traceback from inside an import; run_main takes over from there.
if _os.path.dirname(_os.path.abspath(getattr(_sys.modules.get("__main__"), "__file__", None) or _os.sep)) == \
        _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))):
    from lab.common.errors import exit_quietly_on_ctrl_c as _quiet

    _quiet()
