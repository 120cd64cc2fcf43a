"""The runs behind the lab report: which commands, in which folders, run how, and what became of them.

Each step is one of the lab's commands with output folders of its own inside
the report's folder (part1/, part2/<run>/, part3/net and part3/plot), so
nothing in the user's plot/ or net/ is touched. A step runs as its own
process with the report's folder as working directory; its printed output
goes to logs/<step>.txt and its run record (JSON) says what it computed.
"""
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field

from lab.common.errors import signals_deferred

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the project folder, where the commands are
QUICK = {  # what --quick changes, per command: a short first look, not the lab's results
    "kuzu_main.py": ["--epochs", "1"],
    "seq_train.py anb2n": ["--epoch", "20"],
    "seq_train.py anb2nc3n": ["--epoch", "10"],
    "seq_fsm.py": ["--sequences", "200", "--validate", "200"],
}


@dataclass
class Step:
    """One command of the report: what it runs, where its record lands, what it needs first."""

    name: str  # also the name of its log file
    part: int
    title: str
    argv: list  # the command's arguments after the script, with folders relative to the report's folder
    record: str  # the run record, relative to the report's folder
    needs: str = None  # the step whose outputs this one reads
    status: str = "pending"  # pending, ok, reused, failed, skipped
    seconds: float = 0.0
    message: str = ""  # why it failed or was skipped
    extra: dict = field(default_factory=dict)

    @property
    def finished(self):
        """Whether the step's run record is there to read (run now, or reused from an earlier report)."""
        return self.status in ("ok", "reused")

    def command(self, out):
        """The command line that reproduces this step from the folder report.py was run in."""
        words = ["python3", *(os.path.join(out, w[len("@"):]) if w.startswith("@") else w for w in self.argv)]
        return shlex.join(words)  # quoted where needed: pasted into a POSIX shell, it runs as it is

    def args(self):
        """The arguments as run inside the report's folder."""
        return [w[len("@"):] if w.startswith("@") else w for w in self.argv]


def plan(parts, quick=False, seed=None, nets=("lin", "full", "conv")):
    """The steps of the report for the chosen parts (and Part 1 nets), in the order of the lab."""
    seed_flag = [] if seed is None else ["--seed", str(seed)]
    q = (lambda key: QUICK[key]) if quick else (lambda key: [])
    steps = []
    if 1 in parts:
        for net, title in (("lin", "NetLin"), ("full", "NetFull"), ("conv", "NetConv")):
            if net not in nets:
                continue
            steps.append(Step(f"kuzu_{net}", 1, f"{title} on KMNIST",
                              ["kuzu_main.py", "--net", net, *q("kuzu_main.py"), *seed_flag, "--plot-dir", "@part1"],
                              f"part1/kuzu_{net}.json"))
    if 2 in parts:
        for act, hid, hand, title in (("sig", 5, False, "sigmoid network, 5 hidden units, trained"),
                                      ("step", 4, True, "hand-designed step network, 4 hidden units"),
                                      ("sig", 4, True, "the hand design as sigmoids, weights x10")):
            name = f"check_{act}_{hid}" + ("_set" if hand else "")
            folder = f"part2/{name[len('check_'):]}"
            steps.append(Step(name, 2, title, ["check_main.py", "--act", act, "--hid", str(hid),
                                               *(["--set_weights"] if hand else []), *seed_flag,
                                               "--plot-dir", "@" + folder], f"{folder}/{name}.json"))
    if 3 in parts:
        places = ["--out_path", "@part3/net", "--plot_path", "@part3/plot"]
        for lang, model, hid in (("anb2n", "srn", 2), ("anb2nc3n", "lstm", 3)):
            name, which = f"{lang}_{model}{hid}", ["--lang", lang, "--model", model]
            steps.append(Step(f"train_{name}", 3, f"training the {model.upper()} on {lang}",
                              ["seq_train.py", *which, *q(f"seq_train.py {lang}"), *seed_flag, *places],
                              f"part3/net/{name}.json"))
            steps.append(Step(f"plot_{name}", 3, f"hidden units of the {model.upper()}",
                              ["seq_plot.py", *which, *seed_flag, *places], f"part3/plot/{name}.json",
                              needs=f"train_{name}"))
            if model == "lstm":
                steps.append(Step(f"context_{name}", 3, f"cell (context) units of the {model.upper()}",
                                  ["seq_plot.py", *which, "--context", *seed_flag, *places],
                                  f"part3/plot/{name}_context.json", needs=f"train_{name}"))
            steps.append(Step(f"fsm_{name}", 3, f"state machine of the {model.upper()}",
                              ["seq_fsm.py", *which, *q("seq_fsm.py"), *seed_flag, *places],
                              f"part3/plot/{name}_fsm.json", needs=f"train_{name}"))
            far = ["--beyond", "4"] if model == "lstm" else []  # the LSTM's strings go on to 4 x the training n
            steps.append(Step(f"explain_{name}", 3, f"how the {model.upper()} solves {lang}",
                              ["seq_explain.py", *which, *far, *seed_flag, *places],
                              f"part3/plot/{name}_explain.json", needs=f"train_{name}"))
        steps += counting_recipe_steps(seed_flag)
    return steps


def counting_recipe_steps(seed_flag):
    """The LSTM of the same size trained with the counting recipe, and its explanation, for "Beyond the training
    range": in folders of their own (part3/count/), since its checkpoints have the default run's names."""
    name, which = "anb2nc3n_lstm3", ["--lang", "anb2nc3n", "--model", "lstm"]
    places = ["--out_path", "@part3/count/net", "--plot_path", "@part3/count/plot"]
    return [Step(f"train_{name}_count", 3, "training the LSTM with the counting recipe",
                 ["seq_train.py", *which, "--recipe", "count", *seed_flag, *places], f"part3/count/net/{name}.json"),
            Step(f"explain_{name}_count", 3, "how the counting recipe's LSTM solves anb2nc3n",
                 ["seq_explain.py", *which, "--beyond", "4", *seed_flag, *places],
                 f"part3/count/plot/{name}_explain.json", needs=f"train_{name}_count")]


def run_step(step, folder, env):
    """Run one step inside ``folder``; sets its status, seconds and message (a step that cannot start fails)."""
    script, *rest = step.args()
    started = time.perf_counter()
    try:
        os.makedirs(os.path.join(folder, "logs"), exist_ok=True)
        with open(os.path.join(folder, "logs", step.name + ".txt"), "w", encoding="utf-8") as log:
            done = None
            try:
                with signals_deferred():  # a signal halfway through starting the step would leave it running alone
                    done = subprocess.Popen([sys.executable, os.path.join(ROOT, script), *rest], cwd=folder,
                                            env=env, stdout=log, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                            encoding="utf-8", errors="replace")  # its messages, whatever the locale
                errors = done.communicate()[1]
            except BaseException:  # Ctrl-C or SIGTERM: the step stops with the report, not after it
                if done is not None:
                    done.kill()
                    done.wait()
                raise
            log.write(errors)
    except OSError as err:
        step.seconds, step.status = time.perf_counter() - started, "failed"
        step.message = f"could not run it: {err.strerror or err}"
        return
    step.seconds = time.perf_counter() - started
    if done.returncode == 0 and os.path.isfile(os.path.join(folder, step.record)):
        step.status = "ok"
        return
    step.status = "failed"
    said = [line for line in errors.strip().splitlines() if line.strip()]
    lines = [line[len("error: "):] if line.startswith("error: ") else line for line in said]
    step.message = "\n".join(lines[-12:]) or f"exit status {done.returncode}, and no run record was written"


def skip_reason(step, steps):
    """Why a step cannot run, given the steps before it, or None."""
    by_name = {s.name: s for s in steps}
    if step.needs and not by_name[step.needs].finished:
        return f"it reads the network of '{by_name[step.needs].title}', which did not finish"
    if step.part == 1:
        missing = [s for s in steps if s.part == 1 and s.status == "failed" and "KMNIST not found" in s.message]
        if missing:
            return "KMNIST is missing (see the first run of this part)"
    return None
