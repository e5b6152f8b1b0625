"""Shown when loading fails: the message, the user's file:line, the traceback; retry or quit."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from netscope.engine.errors import is_netscope_file
from netscope.engine.profiler.messages import WorkerError

# Worker stages after the snapshot (netscope/engine/profiler/runner.py names them)
PROFILING_STAGES = ("profiling", "timing", "finding", "measuring", "live")


def error_title(error: WorkerError) -> str:
    """ "Loading the model failed (building)" or "Profiling failed (timing the step on cpu)"."""
    profiling = error.stage.startswith(PROFILING_STAGES)
    what = "Profiling failed" if profiling else "Loading the model failed"
    return what + (f" ({error.stage})" if error.stage else "")


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+')


def _not_the_users(filename: str) -> bool:
    """netscope's own frames and importlib's (``<frozen importlib._bootstrap>``): the machinery
    that ran the user's file, never where it went wrong."""
    return filename.startswith("<frozen importlib") or (
        not filename.startswith("<") and is_netscope_file(filename)
    )


def users_traceback(tail: str) -> str:
    """The traceback without netscope's and importlib's frames (each frame's source lines go
    with it): a syntax error reads the user's file and line, not modelfile.py's import. One with
    no other frame is netscope's own failure: shown whole."""
    kept: list[str] = []
    dropping = False
    frames = 0
    for line in tail.splitlines():
        frame = _FRAME.match(line)
        if frame is not None:
            dropping = _not_the_users(frame.group("file"))
            frames += not dropping
        elif dropping and not line.startswith("    "):  # past the frame's source lines
            dropping = False
        if not dropping:
            kept.append(line)
    return "\n".join(kept) if frames else tail


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
            shown = users_traceback(error.traceback_tail)
            if shown:
                yield Static(Text(shown, style="dim"), id="error-traceback")
            yield Static(
                Text("Edit the file, then press r to load it again, or q to quit.", "italic"),
                id="error-hint",
            )
        yield Footer()

    def action_retry(self) -> None:
        self.dismiss("retry")

    def action_quit_app(self) -> None:
        self.dismiss("quit")
