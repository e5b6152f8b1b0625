"""``python -m netscope.rank`` (one torchrun rank) and its earlier name ``netscope.agent``: the same
entry point, refusing clearly without a collector to report to."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["netscope.rank", "netscope.agent"])
def test_a_rank_without_a_collector_names_the_missing_variable(module, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('trained')\n")
    done = subprocess.run(
        [sys.executable, "-m", module, str(script)],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "NETSCOPE_COLLECTOR is not set" in done.stderr
    assert "trained" not in done.stdout  # the script never ran without its collector


@pytest.mark.parametrize("module", ["netscope.rank", "netscope.agent"])
def test_help_names_the_launch_line(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "python -m netscope.rank" in done.stdout and "NETSCOPE_COLLECTOR" in done.stdout
