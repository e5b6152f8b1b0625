"""``netscope diff A B`` in an 80-column terminal: every verdict whole, no line past the width
(the real CLI in a subprocess, COLUMNS=80, on profiled reports of real model files)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from netscope.cli import main
from netscope.cli_diff import read_report
from netscope.engine.diff.compare import diff_reports
from netscope.report.diff_tables import time_text
from tests.diff.models import cnn_file

TIME = ("--time-budget", "0.5")


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("narrow")
    sides = []
    for name, wider in (("a", False), ("b", True)):
        model = cnn_file(folder, f"{name}.py", wider=wider, extra="time.sleep(0.002)")
        out = str(folder / f"{name}.json")
        assert main(["report", model, "--profile", *TIME, "-o", out]) == 0
        sides.append(out)
    return sides[0], sides[1]


def _words(text: str) -> str:
    return " ".join(text.split())


def test_every_verdict_is_whole_and_no_line_is_wider_than_80_columns(profiled):
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-m", "netscope", "diff", *profiled], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert [line for line in out.splitlines() if len(line) > 80] == []
    diff = diff_reports(read_report(profiled[0]), read_report(profiled[1]))
    verdicts = [time_text(t) for t in diff.timings]
    verdicts += [f"{t.name} {time_text(t)}" for b in diff.changed_blocks for t in b.times]
    assert diff.timings and len(verdicts) > len(diff.timings)
    for verdict in verdicts:
        assert _words(verdict) in _words(out), verdict
    assert "…" not in out  # nothing cut
