"""A torch.compile'd loop under ``netscope run``: netscope adds no frame, graph, graph break or
recompile of its own (torch._dynamo's counters equal with and without it), no dynamo warning on
the script's stderr, the same losses; and the script's own graph breaks, recompiles and the
recompile limit are reported with their file:line (tests/run/scripts/compiled_loop.py).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.run.helpers import SCRIPTS, dynamo_lines, line_of, run_headless, step_losses

pytestmark = pytest.mark.slow


def _compare(tmp_path, case: str, *extra: str, models: tuple[str, ...] = ("Net",)) -> dict:
    script = ["compiled_loop.py", "--case", case, *extra]
    alone = subprocess.run(
        [sys.executable, *script], cwd=SCRIPTS, capture_output=True, text=True, timeout=240
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    under, report = run_headless(tmp_path, script, every=None)
    assert under.returncode == 0, under.stderr[-3000:]
    assert any(line.startswith("DYNAMO ") for line in dynamo_lines(alone.stderr))
    assert dynamo_lines(under.stderr) == dynamo_lines(alone.stderr)
    assert step_losses(under.stdout) == step_losses(alone.stdout)
    assert len(step_losses(alone.stdout)) == 40
    run = report["run"]
    assert run["state"] == "finished" and run["steps"] == 40
    assert [m["class"] for m in run["models"]] == list(models)  # not OptimizedModule
    if "--compile-at" not in extra:
        assert [b["path"] for b in run["blocks"]] in ([], [""])  # the compiled model, whole
    assert "_orig_mod" not in str(run["blocks"])
    return run["compile"]


def test_a_compiled_loop_gains_nothing_from_netscope(tmp_path):
    seen = _compare(tmp_path, "plain")
    assert seen["frames_compiled"] == 1 and seen["unique_graphs"] == 1
    assert seen["graph_breaks"] == [] and seen["graph_break_count"] == 0
    assert seen["recompiles"] == [] and seen["recompile_limits"] == []
    assert seen["compile_ms"] > 0 and seen["run_ms"] > seen["compile_ms"]


def test_the_scripts_own_graph_break_is_reported_at_its_line(tmp_path):
    seen = _compare(tmp_path, "breaks")
    where = line_of("compiled_loop.py", 'print("forward ran")')
    rows = [(b["file"], b["line"], b["count"]) for b in seen["graph_breaks"]]
    assert rows == [(where.split(":")[0], int(where.split(":")[1]), 1)]
    assert "print" in seen["graph_breaks"][0]["reason"]
    assert seen["graph_break_count"] == 1


def test_the_scripts_own_recompiles_are_reported_with_their_guard(tmp_path):
    seen = _compare(tmp_path, "recompiles")
    assert seen["recompile_limits"] == []
    functions = {r["function"] for r in seen["recompiles"]}
    assert functions == {"forward"}
    assert sum(r["count"] for r in seen["recompiles"]) == seen["frames_compiled"] - 1
    reasons = " ".join(r["reason"] for r in seen["recompiles"])
    assert "scale" in reasons or "size" in reasons, seen["recompiles"]
    assert all(r["file"] == "compiled_loop.py" and r["line"] for r in seen["recompiles"])


def test_a_function_at_the_recompile_limit_is_a_finding(tmp_path):
    seen = _compare(tmp_path, "limit")
    forward = int(
        line_of("compiled_loop.py", "def forward(self, x: torch.Tensor, scale").split(":")[1]
    )
    limits = [(x["function"], x["file"], x["line"], x["limit"]) for x in seen["recompile_limits"]]
    assert limits == [("forward", "compiled_loop.py", forward, 2)]
    assert "scale" in seen["recompile_limits"][0]["last_reason"]


def test_a_model_compiled_in_place_with_a_graph_break_gains_nothing_either(tmp_path):
    """``model.compile()`` calls the hooks from an eager ``_call_impl``: dynamo would compile them
    as frames of their own; they are never compiled and step aside as for ``torch.compile``."""
    seen = _compare(tmp_path, "breaks", "--in-place")
    assert seen["frames_compiled"] == 2 and seen["graph_break_count"] == 1
    assert [b["file"] for b in seen["graph_breaks"]] == ["compiled_loop.py"]


def test_a_loop_compiling_once_steady_gains_nothing_from_netscope(tmp_path):
    """Compiled at step 30 (netscope's quiet steps began at 20, its hooks already aside): the
    same frames, graphs and no recompile of netscope's own (its hooks stay as they were)."""
    seen = _compare(tmp_path, "plain", "--compile-at", "30")
    assert seen["frames_compiled"] == 1 and seen["recompiles"] == []
