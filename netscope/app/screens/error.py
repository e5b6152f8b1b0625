"""Shown when loading fails: the message, the user's file:line, the traceback; retry or quit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from netscope.engine.profiler.messages import WorkerError

# Worker stages after the snapshot (netscope/engine/profiler/runner.py names them)
PROFILING_STAGES = ("profiling", "timing", "finding", "measuring", "live")


def error_title(error: WorkerError) -> str:
    """ "Loading the model failed (building)" or "Profiling failed (timing the step on cpu)"."""
    profiling = error.stage.startswith(PROFILING_STAGES)
    what = "Profiling failed" if profiling else "Loading the model failed"
    return what + (f" ({error.stage})" if error.stage else "")


class ErrorScreen(Screen[str]):
    """Dismisses with "retry" (r) or "quit" (q)."""

    BINDINGS = [
        Binding("r", "retry", "Retry (after editing the file)"),
        Binding("q", "quit_app", "Quit"),
    ]

    def __init__(self, error: WorkerError) -> None:
        super().__init__(id="error-screen")
        self.error = error

    def compose(self) -> ComposeResult:
        error = self.error
        yield Header(icon="◎")
        with VerticalScroll(id="error-body"):
            yield Static(Text(error_title(error), style="bold red"), id="error-title")
            yield Static(Text(error.message), id="error-message")
            where = error.location or "not in your code (see the traceback below)"
            if error.location and error.library_location:
                where += f", inside {error.library_location}"
            yield Static(
                Text.assemble(("where: ", "bold"), (where, "bold yellow")), id="error-location"
            )
            if error.hint:
                yield Static(Text.assemble(("hint: ", "bold"), error.hint), id="error-hint-text")
            if error.exit_code is not None:
                yield Static(f"worker exit code {error.exit_code}", id="error-exit")
            if error.traceback_tail:  # the user's frames: the engine leaves netscope's out
                yield Static(Text(error.traceback_tail, style="dim"), id="error-traceback")
            yield Static(
                Text("Edit the file, then press r to load it again, or q to quit.", "italic"),
                id="error-hint",
            )
        yield Footer()

    def action_retry(self) -> None:
        self.dismiss("retry")

    def action_quit_app(self) -> None:
        self.dismiss("quit")
