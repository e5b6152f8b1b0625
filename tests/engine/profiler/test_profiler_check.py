"""``netscope check`` as CI runs it: real model files, the real command, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from prof_helpers import file_line

from netscope.engine.model import CopyFinding, Profile, SyncFinding, TimingSummary
from netscope.engine.profiler.check import Limits, evaluate
from netscope.report.check_text import format_verdict, violation_text

MODEL = textwrap.dedent(
    """
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            y = self.head(x)
            if y.sum() > 100:  # MARK:if
                y = y * 0
            return y

    def build_model():
        return Net()

    def example_input():
        return torch.ones(3, 4)
    """
)
ITEM_MODEL = textwrap.dedent(
    """
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            y = self.head(x)
            scale = y.abs().max().item()  # MARK:item
            return y / (scale + 1.0)

    def build_model():
        return Net()

    def example_input():
        return torch.ones(3, 4)
    """
)
BROKEN = "def build_model():\n    return undefined_name  # MARK:broken\n"


def test_check_exit_codes_and_violations(tmp_path: Path) -> None:
    model, broken = tmp_path / "net.py", tmp_path / "broken.py"
    model.write_text(MODEL)
    broken.write_text(BROKEN)
    report = tmp_path / "out.json"
    runs = {
        "fail": ["check", str(model), "--max-syncs", "0", "--max-copies", "0"],
        "pass": ["check", str(model), "--max-syncs", "1", "--max-copy-bytes", "0"],
        "error": ["check", str(broken)],
        "report": ["report", str(model), "--profile", "-o", str(report)],
    }
    if not torch.cuda.is_available():
        runs["no_gpu"] = ["check", str(model), "--devices", "cuda:0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "netscope", *args, *(["--devices", "cpu"] * (name != "no_gpu"))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name, args in runs.items()
    }
    results = {name: (p.wait(timeout=120), *p.communicate()) for name, p in processes.items()}

    code, out, err = results["fail"]
    assert code == 1, err
    assert "FAILED: 1 violation(s)" in out
    assert f"{file_line(model, 'if')} (block head)" not in out  # the if runs in the root block
    assert f"{file_line(model, 'if')} (block (root))" in out
    assert "bool(tensor) / if tensor:" in out and "--max-syncs 0" in out

    code, out, err = results["pass"]
    assert code == 0, err
    assert "OK: within limits" in out
    assert "sync points per step: 1 (limit 1)" in out

    code, out, err = results["error"]
    assert code == 2
    assert "NameError" in err and file_line(broken, "broken") in err
    assert "Traceback" not in err

    if "no_gpu" in results:
        code, out, err = results["no_gpu"]
        assert code == 2, err
        assert "--devices cuda:0 was requested" in err and "no CUDA GPU" in err
        assert "Traceback" not in err

    code, out, err = results["report"]
    assert code == 0, err
    section = json.loads(report.read_text())["profile"]
    cpu = section["devices"]["cpu"]
    assert cpu["runs"] >= 10 and cpu["p10_ms"] <= cpu["median_ms"] <= cpu["p90_ms"]
    head = {b["path"]: b for b in section["blocks"]}["head"]
    assert head["inclusive_ms"]["cpu"] >= head["self_ms"]["cpu"] >= 0.0
    assert section["copies"] == []
    (sync,) = section["syncs"]
    assert {k: sync[k] for k in ("op", "count", "block", "location", "stall_ms")} == {
        "op": "bool(tensor) / if tensor:",
        "count": 1,
        "block": "",
        "location": file_line(model, "if"),
        "stall_ms": None,
    }
    assert "would sync on CUDA" in sync["reason"]
    assert set(section["gil"]) >= {"p50_ms", "p99_ms", "max_ms", "late_share"}


def test_a_passing_check_lists_what_it_found(tmp_path: Path) -> None:
    """Within --max-syncs the gate passes and still names the line of the one .item()."""
    model = tmp_path / "item_net.py"
    model.write_text(ITEM_MODEL)
    command = ["check", str(model), "--max-syncs", "1", "--devices", "cpu"]
    result = subprocess.run(
        [sys.executable, "-m", "netscope", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sync points per step: 1 (limit 1)" in out and "OK: within limits" in out
    assert f"  {file_line(model, 'item')} (block (root)): .item() x1 per step [sync]" in out, out


def profile_with(syncs: tuple[SyncFinding, ...], copies: tuple[CopyFinding, ...]) -> Profile:
    timing = TimingSummary("cpu", 1.0, 0.9, 1.1, 0.8, 1.2, 10)
    return Profile(devices=(timing,), blocks=(), copies=copies, syncs=syncs, gil=None, step="s")


def test_evaluate_names_each_offending_line() -> None:
    sync = SyncFinding(".item()", "r", 2, "head", "m.py:7", None)
    copy = CopyFinding("H2D", 4096, 3, "float32", False, False, "body", "m.py:9")
    profile = profile_with((sync,), (copy,))
    assert evaluate(profile, Limits()) == []
    assert evaluate(profile, Limits(max_syncs=2, max_copies=3, max_copy_bytes=4096)) == []
    violations = evaluate(profile, Limits(max_syncs=1, max_copies=2, max_copy_bytes=100))
    assert [(v.gate, v.total, v.limit, v.finding) for v in violations] == [
        ("syncs", 2, 1, sync), ("copies", 3, 2, copy), ("bytes copied", 4096, 100, copy)
    ]  # fmt: skip
    assert [violation_text(v) for v in violations] == [
        "m.py:7 (block head): .item() x2 per step [syncs 2 > --max-syncs 1]",
        "m.py:9 (block body): H2D copy x3 per step [copies 3 > --max-copies 2]",
        "m.py:9 (block body): H2D 4096 bytes per step [bytes copied 4096 > --max-copy-bytes 100]",
    ]
    text = format_verdict(profile, Limits(max_syncs=1), violations)
    assert "FAILED: 3 violation(s)" in text and "would wait on CUDA" in text


def test_the_verdict_lists_findings_within_limits() -> None:
    sync = SyncFinding(".item()", "r", 2, "head", "m.py:7", None)
    copy = CopyFinding("H2D", 4096, 3, "float32", False, False, "body", "m.py:9")
    profile = profile_with((sync,), (copy,))
    sync_line = "  m.py:7 (block head): .item() x2 per step [sync]"
    copy_line = "  m.py:9 (block body): H2D copy x3, 4096 bytes per step [copy]"
    limits = Limits(max_syncs=2, max_copies=3)
    text = format_verdict(profile, limits, evaluate(profile, limits))
    assert text.splitlines()[-3:] == ["OK: within limits, found:", sync_line, copy_line]
    # failing on syncs: the copies, within their limits, are still listed (once)
    limits = Limits(max_syncs=1, max_copies=3)
    lines = format_verdict(profile, limits, evaluate(profile, limits)).splitlines()
    assert lines[-4:] == [
        "FAILED: 1 violation(s)",
        "  m.py:7 (block head): .item() x2 per step [syncs 2 > --max-syncs 1]",
        "found within limits:",
        copy_line,
    ]
    empty = profile_with((), ())
    assert format_verdict(empty, Limits(), []).splitlines()[-1] == "OK: within limits"
