"""What torch.compile did in a run, as summary rows and tables (Markdown, HTML and the app)."""

from __future__ import annotations

from netscope.engine.compile_facts import CompileReport, RecompileLimit
from netscope.report.tables import Table
from netscope.report.values import fmt_count, fmt_ms, fmt_percent


def _where(file: str | None, line: int | None) -> str:
    if file is None:
        return "(not told)"
    return f"{file}:{line}" if line is not None else file


def compile_line(report: CompileReport) -> str:
    """One line: frames, graphs, breaks, recompiles, and compiling's share of the run."""
    recompiles = sum(r.count for r in report.recompiles)
    text = (
        f"{fmt_count(report.frames_compiled)} frame(s) compiled into "
        f"{fmt_count(report.unique_graphs)} graph(s), {fmt_count(report.graph_break_count)} "
        f"graph break(s), {fmt_count(recompiles)} recompile(s)"
    )
    if report.compile_ms is not None and report.run_ms > 0:
        share = fmt_percent(min(report.compile_ms / report.run_ms, 1.0))
        text += f"; compiling took {fmt_ms(report.compile_ms)} of the run's {fmt_ms(report.run_ms)}"
        text += f" ({share})"
    return text


def limit_text(limit: RecompileLimit) -> str:
    cap = f" ({limit.limit})" if limit.limit is not None else ""
    last = f"; last failed guard: {limit.last_reason}" if limit.last_reason else ""
    return (
        f"`{limit.function}` at {_where(limit.file, limit.line)} hit dynamo's recompile "
        f"limit{cap} and runs eagerly from then on{last}"
    )


def compile_summary(report: CompileReport | None) -> list[tuple[str, str]]:
    if report is None:
        return []
    rows = [("torch.compile", compile_line(report))]
    rows += [("Finding", limit_text(limit)) for limit in report.recompile_limits]
    rows += [("Note", note) for note in report.notes]
    return rows


def compile_tables(report: CompileReport | None) -> list[Table]:
    if report is None:
        return []
    breaks = [[_where(b.file, b.line), str(b.count), b.reason] for b in report.graph_breaks]
    recompiles = [
        [r.function, _where(r.file, r.line), str(r.count), r.reason] for r in report.recompiles
    ]
    return [
        Table(
            "Graph breaks (the script's own)",
            ["Location", "Count", "Reason"],
            breaks,
            note="Count: times dynamo met the break while compiling; the compiled code then "
            "splits there at every call.",
            empty="None: every compiled function is one graph.",
            code={0},
        ),
        Table(
            "Recompiles",
            ["Function", "Location", "Count", "Failed guard"],
            recompiles,
            empty="None.",
            code={0, 1},
        ),
    ]
