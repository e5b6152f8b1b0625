"""The Compile tab of `netscope run`: what torch.compile did in the script (its own graph
breaks and recompiles, a function at the recompile limit), as the script runs (the watcher sends
it at step boundaries when something is new) and once more when it ends."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from netscope.engine.compile_facts import CompileReport
from netscope.report.compile_tables import compile_line, limit_text

WAITING = "Nothing compiled seen yet (torch.compile's records are read at step boundaries)."
SO_FAR = "so far, the script still running:"
NOTHING = "The script compiled nothing (no torch.compile'd code ran)."


def _where(file: str | None, line: int | None) -> str:
    return f"{file}:{line}" if file and line is not None else (file or "n/a")


class CompilePanel(Static):
    DEFAULT_CSS = """
    CompilePanel { padding: 0 1; height: auto; }
    """

    report: reactive[CompileReport | None] = reactive(None, layout=True)
    ended: reactive[bool] = reactive(False)

    def show(self, report: CompileReport | None, ended: bool) -> None:
        self.report, self.ended = report, ended

    def render(self) -> RenderableType:
        report = self.report
        if report is None:
            return Text(NOTHING if self.ended else WAITING, style="dim")
        parts: list[RenderableType] = [Text(compile_line(report))]
        if not self.ended:
            parts.insert(0, Text(SO_FAR, style="dim"))
        for limit in report.recompile_limits:  # a finding: the function runs eagerly now
            parts.append(Text(limit_text(limit).replace("`", ""), style="yellow"))
        if report.graph_breaks:
            breaks = Table("graph break at", "count", "reason", box=None)
            for b in report.graph_breaks:
                breaks.add_row(_where(b.file, b.line), str(b.count), b.reason)
            parts.append(breaks)
        if report.recompiles:
            again = Table("recompiled", "at", "count", "failed guard", box=None)
            for r in report.recompiles:
                again.add_row(r.function, _where(r.file, r.line), str(r.count), r.reason)
            parts.append(again)
        parts += [Text(f"note: {n}", style="dim") for n in report.notes]
        return Group(*parts)
