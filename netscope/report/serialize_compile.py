"""``run.compile`` of the JSON report: what torch.compile did in the run (schema 1, added)."""

from __future__ import annotations

from typing import Any

from netscope.engine.compile_facts import CompileReport
from netscope.report.values import num


def compile_dict(report: CompileReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "frames_compiled": report.frames_compiled,
        "unique_graphs": report.unique_graphs,
        "graph_break_count": report.graph_break_count,
        "graph_breaks": [
            {"reason": b.reason, "file": b.file, "line": b.line, "count": b.count}
            for b in report.graph_breaks
        ],
        "recompiles": [
            {
                "function": r.function,
                "file": r.file,
                "line": r.line,
                "reason": r.reason,
                "count": r.count,
            }
            for r in report.recompiles
        ],
        "recompile_limits": [
            {
                "function": x.function,
                "file": x.file,
                "line": x.line,
                "limit": x.limit,
                "last_reason": x.last_reason,
            }
            for x in report.recompile_limits
        ],
        "compile_ms": num(report.compile_ms),
        "run_ms": num(report.run_ms),
        "notes": list(report.notes),
    }
