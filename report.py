"""Build the lab report from one command: run the lab's standard commands and write one page of their results.

    python3 report.py             # every part, the lab's default settings (Part 1 dominates the time)
    python3 report.py --quick     # a short first look (1 epoch, fewer sequences), marked as such
    python3 report.py --reuse     # build from the runs already in the report folder; run only what is missing
    python3 report.py --parts 2 3 --out my_report

Runs each command as its own process with output folders inside the report
folder, so nothing in plot/ or net/ is touched, then writes
``<out>/index.html`` (one page, images beside it, no JavaScript) and
``<out>/report.md`` (the same content in Markdown). Every table and figure
is captioned with the command that reproduces it and the run record its
numbers come from. The report is built in a temporary folder and moved into
place at the end: a failure, Ctrl-C or a plain ``kill`` stops the running
step and leaves the previous report as it was. One report at a time is
built into a folder (a second is refused); --out may be a link to a folder
(the report goes where it points). With --reuse, a step is run again, with
a line saying why, when a file it wrote is missing or damaged or its record
does not agree with what it describes (an explanation and its network). A
step that fails is reported in its section and the rest goes on; the exit
status is 1 when any step failed.
"""
import lab  # noqa: F401  (first: from here on a Ctrl-C while torch and the rest load gives 130 and one line)
import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
import zlib

from lab.characters import kmnist
from lab.common import records, schema
from lab.report.content import PARTS, PART_TITLES, Context
from lab.report.document import to_html, to_markdown
from lab.report.steps import plan, run_step, skip_reason
from lab.common.errors import UserError, first_line, run_main
from lab.common.files import atomic_write_text, pid_alive, refuse_file
from lab.common.locks import held
from lab.report.checks import explanation_problem, files_problem, read_run_record
from lab.common.options import SEED_MAX, number

MANIFEST = "report.json"  # what a report folder holds about its steps; marks the folder as a report


def build_parser():
    """The command-line flags."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="report", help="the report's folder (default: %(default)s)")
    p.add_argument("--parts", type=int, nargs="+", choices=(1, 2, 3), default=[1, 2, 3],
                   help="which parts of the lab (default: 1 2 3)")
    p.add_argument("--nets", nargs="+", choices=("lin", "full", "conv"), default=["lin", "full", "conv"],
                   help="which Part 1 nets (default: lin full conv)")
    p.add_argument("--quick", action="store_true",
                   help="a short version for a first look: 1 epoch for Part 1, fewer sequences for Part 3")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the runs already in the report folder where their command (and for Part 1 the "
                        "data folder) is the same; run only the missing ones")
    p.add_argument("--seed", type=number(int, low=0, high=SEED_MAX), default=None,
                   help="seed passed to every command (default: each command's own default)")
    p.add_argument("--data", default=None,
                   help="KMNIST's data folder, holding KMNIST/raw/ (default $KMNIST_DATA, else ./data)")
    return p


def resolve_out(args):
    """--out as an absolute path; a link to a folder is followed (the report goes where it points and the link
    stays), a dangling link or a link to a file is refused before anything runs."""
    out = os.path.abspath(args.out)
    if not os.path.islink(out):
        return out
    target = os.path.realpath(out)
    if not os.path.exists(target):
        raise UserError(f"--out {args.out} is a link to {shown_path(os.readlink(out))}, which does not exist; "
                        "create that folder or give --out another folder")
    if not os.path.isdir(target):
        raise UserError(f"--out {args.out} is a link to the file {shown_path(target)}, not to a folder")
    return target


def building_prefix(out, what="building"):
    """The name's start of the temporary folders beside ``out`` (the report being built, the one it replaces),
    cut short so that a long --out still leaves room; the process id follows it."""
    return f".{os.path.basename(out)[:32]}-{what}-"


def lock_path(out):
    """The lock beside ``out`` that one report at a time holds (a short name: --out may be as long as allowed)."""
    base = os.path.basename(out)
    return os.path.join(os.path.dirname(out), f".{base[:32]}-{zlib.crc32(os.fsencode(base)):08x}.lock")


def remove_leftovers(out):
    """Remove the temporary folders a report into ``out`` killed outright left beside it (its process has ended);
    called while holding the lock, so that no other report into ``out`` is running."""
    parent = os.path.dirname(out)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        for prefix in (building_prefix(out), building_prefix(out, "old")):
            pid = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def check_out(args, out):
    """Refuse an --out that cannot become a report: a file, a folder holding other things, a name the file
    system cannot hold."""
    try:
        os.stat(out)
    except FileNotFoundError:
        return
    except OSError as err:  # a name too long for the file system, a part of the path that is a file, ...
        raise UserError(f"--out {args.out} cannot be a folder here: {err.strerror or err}; choose another "
                        "name") from None
    refuse_file(out, "--out")
    try:
        holds = os.listdir(out)
    except OSError as err:
        raise UserError(f"cannot read the folder --out {args.out}: {err.strerror or err}") from None
    if holds and not os.path.isfile(os.path.join(out, MANIFEST)):
        raise UserError(f"--out {args.out} is a folder that holds something other than a report; "
                        "choose another folder, or empty it")


def read_earlier(args, steps, log=print):
    """--reuse: {step name: its entry in the manifest} for the steps of the earlier report that can be reused.

    The manifest and the record of every step to be reused are checked
    first (lab.common.schema); a damaged one is a UserError naming the
    user's file, before anything is written. A step whose files are missing
    or damaged, whose record does not agree with what it describes
    (reuse_problem), or that reads the output of a step run again, is run
    again, with a line saying why.
    """
    manifest = os.path.join(args.out, MANIFEST)
    if not (args.reuse and os.path.isfile(manifest)):
        return {}
    try:
        entries = schema.check(manifest, records.read_record(manifest), schema.MANIFEST)["results"]["steps"]
    except UserError as err:
        raise UserError(f"--reuse: {err}; build the report without --reuse") from None
    earlier = {}
    for step in steps:
        before = entries.get(step.name)
        record = os.path.join(args.out, step.record)
        if (before and before["args"] == step.args() and before["status"] in ("ok", "reused")
                and before.get("data") == data_of(step, args) and os.path.isfile(record)):
            try:
                data = read_run_record(record, step.args()[0])
            except UserError as err:
                raise UserError(f"--reuse: {err}; remove that file to run its step again, or build the report "
                                "without --reuse") from None
            why = reuse_problem(args.out, step, data)
            if why is None and step.needs and step.needs not in earlier:
                why = f"it reads the output of {step.needs}, which runs again"
            if why:
                log(f"--reuse: running {step.name} again: {why}")
                continue
            earlier[step.name] = before
    return earlier


def reuse_problem(folder, step, record):
    """Why a step's earlier output in ``folder`` cannot be reused although its record is well formed, or None:
    a file it wrote is missing or damaged, or an explanation does not agree with its network."""
    problem = files_problem(folder, record)
    if problem is None and step.args()[0] == "seq_explain.py":
        problem = explanation_problem(folder, step.record, record)
    return problem


def make_work(args, out, earlier):
    """The temporary folder beside ``out`` that the report is built in, with the reused runs copied in."""
    parent = os.path.dirname(out)
    try:
        work = tempfile.mkdtemp(prefix=f"{building_prefix(out)}{os.getpid()}-", dir=parent)
    except OSError as err:  # a read-only folder, a full disk, ...
        raise UserError(f"cannot write the report into the folder {parent}: {err.strerror or err}; "
                        "give --out a folder you can write to") from None
    if earlier:
        try:
            shutil.copytree(out, work, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("index.html", "report.md", MANIFEST))
        except (OSError, shutil.Error) as err:
            shutil.rmtree(work, ignore_errors=True)
            raise UserError(f"--reuse: cannot copy the earlier report {args.out}: "
                            f"{first_line(err, type(err).__name__)}") from None
    return work


def shown_path(path):
    """A path as text for the page and the manifest: its file name's UTF-8, whatever the locale.

    Under a locale without UTF-8 (LANG=C, Python's UTF-8 mode off) Python
    holds the bytes of a name such as Bericht_é as escapes that cannot be
    written as UTF-8; this gives back the name's own letters.
    """
    return os.fsencode(path).decode("utf-8", "replace")


def data_of(step, args):
    """What a step's results depend on beyond its arguments: KMNIST's folder (args.data, resolved) for Part 1."""
    return args.data if step.part == 1 else None


def run_steps(steps, work, earlier, args, log=print):
    """Run every step, or reuse it when ``earlier`` (read_earlier) has it, with a line as each starts and ends."""
    env = dict(os.environ, KMNIST_DATA=args.data, MPLBACKEND="Agg")
    started = time.perf_counter()
    for i, step in enumerate(steps, start=1):
        stamp = lambda: f"[{i}/{len(steps)} {time.perf_counter() - started:6.1f} s]"
        command = step.command(args.out)
        if step.name in earlier:  # read_earlier checked its record
            step.status, step.seconds = "reused", earlier[step.name]["seconds"]
            log(f"{stamp()} reused: {step.title} ({command})")
            continue
        reason = skip_reason(step, steps)
        if reason:
            step.status, step.message = "skipped", reason
            log(f"{stamp()} skipped: {step.title}: {reason}")
            continue
        log(f"{stamp()} running: {step.title}: {command}", flush=True)
        step.extra["load"] = load_average()
        run_step(step, work, env)
        outcome = "done" if step.status == "ok" else "FAILED: " + step.message.splitlines()[-1]
        log(f"{stamp()} {outcome} ({step.seconds:.1f} s)", flush=True)
    return time.perf_counter() - started


def load_average():
    """The machine's 1-minute load average (processes running or waiting for a core), or None where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


BUSY = 0.5  # a load above this before the report's first run means other programs were using the cores


def load_text(loads, steps, cores):
    """A sentence on how busy the machine was: the load when the report started, at each run's start, at the end.

    Other programs count as busy when the load before the first run was above
    BUSY, or when a run started with a load above the cores (the report runs
    one command at a time, and no command uses more threads than the cores).
    """
    seen = [s.extra["load"] for s in steps if s.extra.get("load") is not None]
    start, end = loads
    if start is None:
        return "The load average of this machine is not known here."
    busy = start > BUSY or any(v > cores + BUSY for v in seen)
    text = (f"1-minute load average (processes running or waiting for one of the {cores} cores): {start:.2f} when "
            f"the report started, {end:.2f} when it ended" + (f", at most {max(seen):.2f} when a run started" if seen
                                                              else "") + ". ")
    if busy:
        return text + ("Other programs were using the cores while the report ran, so its times are longer than on "
                       "a quiet machine.")
    return text + "No other program was using the cores much: the times are those of a quiet machine."


def header(args, out, steps, total, loads=(None, None)):
    """The report's title, what it is, where it ran, how busy the machine was, and every command.

    ``out``: --out as the page shows it; ``loads``: the load average before the first run and after the last.
    """
    machine, versions = records.machine(), records.versions()
    blocks = [("title", "Neural-network lab report" + (" (quick version)" if args.quick else ""))]
    if args.quick:
        blocks.append(("note", "Quick version: Part 1 trained for 1 epoch and Part 3 on fewer sequences, for a "
                               "first look. These are not the lab's results; run `python3 report.py` for those."))
    run_time = sum(s.seconds for s in steps if s.status == "ok")
    blocks.append(("text", f"Built {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} in {total:.1f} s "
                           f"({run_time:.1f} s of it in the runs below); Python {versions['python']}, torch "
                           f"{versions.get('torch', '?')}, torchvision {versions.get('torchvision', '?')}, numpy "
                           f"{versions.get('numpy', '?')}; {machine['cpu']}, {machine['cores']} cores."))
    blocks.append(("text", load_text(loads, steps, machine["cores"])))
    rows = [[s.name, s.status + (" (earlier run)" if s.status == "reused" else ""), f"{s.seconds:.1f} s",
             "" if s.extra.get("load") is None else f"{s.extra['load']:.2f}", s.command(out)] for s in steps]
    blocks.append(("table", ["step", "status", "time", "load at start", "command"], rows,
                   f"The commands behind this report, run from the folder report.py was run in; each leaves its "
                   f"printed output in `{os.path.join(out, 'logs')}/<step>.txt` and a run record (JSON) "
                   f"beside its images. Times and loads: record `{os.path.join(out, MANIFEST)}`."))
    return blocks


def document(args, steps, work, total, loads=(None, None)):
    """All the report's blocks: the header, then each part."""
    out = shown_path(args.out)
    ctx = Context(work, out, steps)
    blocks = header(args, out, steps, total, loads)
    for part in sorted(set(args.parts)):
        blocks.append(("section", f"part{part}", PART_TITLES[part]))
        blocks += PARTS[part](ctx)
    return blocks


def publish(work, out):
    """Move the finished report from its temporary folder onto ``out``, replacing an earlier report."""
    old = None
    try:
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix=f"{building_prefix(out, 'old')}{os.getpid()}-", dir=os.path.dirname(out))
            os.rmdir(old)
            os.rename(out, old)
        os.rename(work, out)
    except OSError as err:
        if old and os.path.exists(old) and not os.path.exists(out):
            os.rename(old, out)  # put the earlier report back
        raise UserError(f"cannot put the report in place at {out}: {err.strerror or err}") from None
    if old:
        shutil.rmtree(old, ignore_errors=True)


def main(argv=None):
    """Check the folders and earlier runs, run the steps, write the pages and the manifest, then put the report
    in place."""
    args = build_parser().parse_args(argv)
    args.data = os.path.abspath(kmnist.data_root(args.data))  # the Part 1 commands get it through KMNIST_DATA
    out = resolve_out(args)
    steps = plan(sorted(set(args.parts)), args.quick, args.seed, args.nets)
    check_out(args, out)
    parent = os.path.dirname(out)
    unwritable = (lambda reason: f"cannot write the report into the folder {parent}: {reason}; give --out a "
                                 "folder you can write to")
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:  # a read-only folder, a full disk, ...
        raise UserError(unwritable(err.strerror or str(err))) from None
    with held(lock_path(out), f"a report into {args.out}", unwritable):
        remove_leftovers(out)
        check_out(args, out)  # again: another report may have finished into it while this one waited for the lock
        return build(args, out, steps, argv)


def build(args, out, steps, argv):
    """Read the earlier report, run the steps, write the pages and the manifest, and put the report in place."""
    earlier = read_earlier(args, steps)
    work = make_work(args, out, earlier)
    try:
        loads = [load_average()]
        total = run_steps(steps, work, earlier, args)
        loads.append(load_average())
        blocks = document(args, steps, work, total, loads)
        atomic_write_text(to_html(blocks), os.path.join(work, "index.html"))
        atomic_write_text(to_markdown(blocks), os.path.join(work, "report.md"))
        manifest = records.Record("report.py", argv, vars(args))
        manifest.results.update(quick=args.quick, load_average={"start": loads[0], "end": loads[1]}, steps={
            s.name: {"command": s.command(shown_path(args.out)), "args": s.args(), "status": s.status,
                     "seconds": round(s.seconds, 3), "load_at_start": s.extra.get("load"),
                     "record": s.record, "message": s.message, "data": data_of(s, args)}
            for s in steps})
        manifest.write(os.path.join(work, MANIFEST))
        publish(work, out)
    finally:
        if os.path.exists(work):
            shutil.rmtree(work, ignore_errors=True)
    failed = [s for s in steps if s.status in ("failed", "skipped")]
    print(f"wrote {os.path.join(args.out, 'index.html')} and {os.path.join(args.out, 'report.md')} "
          f"({len(steps) - len(failed)} of {len(steps)} steps finished)")
    if failed:
        print("not finished: " + ", ".join(f"{s.name} ({s.status})" for s in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
