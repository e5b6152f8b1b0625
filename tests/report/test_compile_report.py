"""run.compile in the reports: the JSON validates against docs/schema.json, and the Markdown and
HTML run reports show the summary, the recompile-limit finding and the two tables."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from netscope.engine.compile_facts import CompileReport, GraphBreak, Recompile, RecompileLimit
from netscope.engine.model import RunReport
from netscope.report.run_report import render_run_html, render_run_json, render_run_markdown

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schema.json").read_text())
SEEN = CompileReport(
    frames_compiled=4,
    unique_graphs=3,
    graph_break_count=1,
    graph_breaks=(GraphBreak("Dynamo does not know how to trace builtin `print`", "t.py", 48, 1),),
    recompiles=(Recompile("forward", "t.py", 49, "scale == 1.0", 1),),
    recompile_limits=(RecompileLimit("forward", "t.py", 45, 2, "scale == 1.5"),),
    compile_ms=1500.0,
    run_ms=6000.0,
)


def _run(compiled: CompileReport | None) -> RunReport:
    return RunReport(("t.py",), "finished", 0, 40, "optimizer.step", None, None, compile=compiled)


def test_the_json_carries_run_compile_and_validates():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for compiled in (SEEN, None):
        report = json.loads(render_run_json(_run(compiled)))
        errors = [e.message for e in validator.iter_errors(report)]
        assert errors == []
    seen = json.loads(render_run_json(_run(SEEN)))["run"]["compile"]
    assert seen["graph_breaks"] == [
        {"reason": SEEN.graph_breaks[0].reason, "file": "t.py", "line": 48, "count": 1}
    ]
    assert seen["recompile_limits"][0] == {
        "function": "forward", "file": "t.py", "line": 45, "limit": 2, "last_reason": "scale == 1.5"
    }  # fmt: skip
    assert json.loads(render_run_json(_run(None)))["run"]["compile"] is None


def test_markdown_and_html_show_what_was_compiled():
    text = render_run_markdown(_run(SEEN))
    assert "4 frame(s) compiled into 3 graph(s), 1 graph break(s), 1 recompile(s)" in text
    assert "1,500 ms of the run's 6,000 ms (25.0%)" in text
    assert "`forward` at t.py:45 hit dynamo's recompile limit (2) and runs eagerly" in text
    assert "## Graph breaks (the script's own)" in text and "t.py:48" in text
    assert "scale == 1.0" in text
    html = render_run_html(_run(SEEN))
    assert "Recompiles" in html and "t.py:49" in html
    assert "torch.compile" not in render_run_markdown(_run(None))
