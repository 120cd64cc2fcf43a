"""A command loads only what it uses: the run record names the libraries' versions without importing them.

Before, every command imported torchvision just to write its version into the
record, which was more than half of a small command's time.
"""
import json
import os
import platform
import subprocess
import sys

import numpy
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_check_main_imports_no_torchvision_and_records_the_installed_versions(tmp_path):
    done = subprocess.run([sys.executable, "-X", "importtime", os.path.join(ROOT, "check_main.py"), "--act", "step",
                           "--hid", "4", "--set_weights"], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" in imported and "check" in imported  # the listing is the real one
    assert not {name for name in imported if name.split(".")[0] in ("torchvision", "scipy", "pandas")}
    versions = json.loads((tmp_path / "plot" / "check_step_4_set.json").read_text())["versions"]
    assert versions["python"] == platform.python_version()
    assert versions["torch"] == torch.__version__.split("+")[0]  # a local build tag (+cpu, +cu130) is not metadata's
    assert versions["numpy"] == numpy.__version__
    assert set(versions) >= {"torchvision", "matplotlib"}
