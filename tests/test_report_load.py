"""The report's header says how busy the machine was, by the rule it states."""
import importlib.util
import os

from lab.report.steps import Step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report_module():
    spec = importlib.util.spec_from_file_location("report_under_test", os.path.join(ROOT, "report.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def steps(*loads):
    out = []
    for i, load in enumerate(loads):
        step = Step(f"s{i}", 2, "a step", ["check_main.py"], "r.json")
        step.extra["load"] = load
        out.append(step)
    return out


def test_a_quiet_machine_and_a_busy_one():
    report = report_module()
    quiet = report.load_text((0.12, 1.9), steps(0.3, 2.2), cores=2)
    assert "0.12 when the report started, 1.90 when it ended, at most 2.20 when a run started" in quiet
    assert "No other program was using the cores much" in quiet
    busy_before = report.load_text((0.8, 1.0), steps(0.9), cores=2)
    assert "Other programs were using the cores" in busy_before
    busy_during = report.load_text((0.1, 3.0), steps(0.2, 2.6), cores=2)  # above 2 cores + 0.5
    assert "Other programs were using the cores" in busy_during
    assert "not known" in report.load_text((None, None), steps(), cores=2)
