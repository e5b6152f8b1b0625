"""The app of `netscope run script.py`: the script runs in a child process while the app shows
its model, step time, phases, output, syncs and copies. ``q`` / Ctrl+C stop the script (SIGINT,
then SIGTERM after a grace period) and keep what was recorded; ``q`` again quits."""

from __future__ import annotations

import threading
from contextlib import suppress
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Input

from netscope.app.screens.export import RUN_FORMATS, ExportScreen
from netscope.app.screens.help import RUN_KEYS, HelpScreen
from netscope.app.screens.run import RunScreen
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.app.widgets.progress_line import ProgressLine
from netscope.engine.errors import NetscopeError
from netscope.engine.model import RunReport, Snapshot
from netscope.engine.run.aggregate import RunRecorder
from netscope.engine.run.messages import RunMessage, RunSnapshot, ScriptEnded, ScriptOutput
from netscope.engine.run.session import RunSession, exit_status
from netscope.report.run_tables import run_state_text
from netscope.units import number, params_phrase

REFRESH_S = 0.25  # panels redraw at most this often, however fast messages come
INTERRUPTED = 130  # the status of a run the user stopped (q or Ctrl+C), as the shell's Ctrl+C


def quit_status(stopped_by_user: bool, script_status: int) -> int:
    """netscope run's exit status, with or without ranks: 130 when you stopped the script, else
    the script's own status (a crash with status 0 reads 1)."""
    return INTERRUPTED if stopped_by_user else script_status


def loop_summary(report: RunReport) -> str:
    """`` · syncs/step 1 (.item() at train.py:58)``: the loop's worst sync, at a glance."""
    if not report.sampled_steps:
        return ""
    per_step = sum(s.per_step for s in report.syncs)
    text = f" · syncs/step {number(per_step, 2)}"
    if report.syncs:
        top = report.syncs[0].finding
        text += f" ({top.op} at {top.location or top.block})"
    return text + f" · {report.sampled_steps} sampled steps"


class RunEvent(Message):
    def __init__(self, event: RunMessage) -> None:
        super().__init__()
        self.event = event


class RunApp(App[int]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "netscope run"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("slash", "filter", "Filter", priority=True),
        Binding("q", "stop_or_quit", "Stop / quit"),
        Binding("ctrl+c", "stop_or_quit", "Stop", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.session = session
        self.recorder = RunRecorder(session.argv)
        self.main = RunScreen()
        self.dirty = False
        self.output: list[ScriptOutput] = []
        self.shown_snapshot: Snapshot | None = None
        self._stop = threading.Event()
        self.stopped_by_user = False  # q or Ctrl+C stopped the script while it ran
        self.last_export: str | None = None
        self.export_choice: tuple[str, str] | None = None  # (format, path) of the last export

    def get_default_screen(self) -> RunScreen:
        return self.main

    def on_mount(self) -> None:
        self.sub_title = self._state_text()
        self.set_interval(REFRESH_S, self._refresh)
        self.run_worker(partial(self._pump, self._stop), thread=True, name="run-pump")

    def _pump(self, stop: threading.Event) -> None:
        try:
            self.session.start()
            while not stop.is_set() and not self.session.ended:
                message = self.session.poll(0.2)
                if message is not None:
                    self.post_message(RunEvent(message))
        except (NetscopeError, OSError) as exc:
            from netscope.engine.model import ScriptError

            error = ScriptError(type(exc).__name__, str(exc), None)
            self.post_message(RunEvent(ScriptEnded(2, error)))

    def on_run_event(self, message: RunEvent) -> None:
        event = message.event
        self.recorder.feed(event)
        if isinstance(event, ScriptOutput):
            self.output.append(event)
        self.dirty = True
        if isinstance(event, (ScriptEnded, RunSnapshot)):
            self._refresh()
        if isinstance(event, ScriptEnded):
            state = run_state_text(self.recorder.report())
            severity: SeverityLevel = "error" if self.recorder.state == "crashed" else "information"
            self.notify(f"The script {state}. e exports the run report; q quits.",
                        severity=severity, timeout=6)  # fmt: skip

    def _state_text(self) -> str:
        argv = " ".join(self.session.argv)
        return f"{argv} · {run_state_text(self.recorder.report())}"

    def _refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        report = self.recorder.report()
        with suppress(NoMatches):
            lines, self.output = self.output, []
            self.main.show_output(lines)
            self.main.show_run(report)
            if report.snapshot is not None and report.snapshot is not self.shown_snapshot:
                first = self.shown_snapshot is None
                self.shown_snapshot = report.snapshot
                if first:
                    self.main.show_snapshot(report.snapshot)
                else:  # fresh gradients from the script's backward: same tree, new details
                    from netscope.app.tree_index import TreeIndex

                    details = self.main.query_one(DetailsPanel)
                    details.index = self.main.index = TreeIndex(report.snapshot)
            progress = self.main.query_one(ProgressLine)
            if report.snapshot is not None:
                shown = report.snapshot
                counted = params_phrase(shown.total_params, shown.uninitialized_params)
                progress.summary = f"{shown.model_class} · {counted}"
            progress.stage = ""
            progress.profiling = run_state_text(report) + loop_summary(report)
            self.sub_title = self._state_text()

    # --- keys ---------------------------------------------------------------------------

    def action_stop_or_quit(self) -> None:
        if not self.session.ended and self.recorder.state in ("starting", "running"):
            self.stopped_by_user = True
            self.session.stop()
            self.notify("Stopping the script (SIGINT; SIGTERM in 5 s)…", timeout=6)
            return
        self.action_quit()

    def action_export(self) -> None:
        fmt, path = self.export_choice or ("html", None)
        self.push_screen(self._export_screen(fmt, path), self._write_export)

    def _export_screen(self, fmt: str, path: str | None, error: str = "") -> ExportScreen:
        target = self.session.target
        return ExportScreen(target, fmt, formats=RUN_FORMATS, path=path, error=error)

    def _write_export(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        fmt, path = self.export_choice = choice  # what was typed: offered again next time
        try:
            from netscope.report.run_report import write_run_report

            written = write_run_report(path, self.recorder.report(), fmt)
        except (NetscopeError, OSError, ValueError) as exc:
            self.notify(f"Export failed: {exc}", severity="error", timeout=10)
            # the dialog again, with the path as typed: fix it there, not type it all anew
            self.push_screen(self._export_screen(fmt, path, str(exc)), self._write_export)
            return
        self.last_export = written
        self.notify(f"Wrote {fmt} run report to {written}", title="Exported", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return self.screen is self.main and not isinstance(self.focused, Input)
        return True

    def action_filter(self) -> None:
        self.main.action_filter()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(RUN_KEYS))

    def action_quit(self) -> None:  # type: ignore[override]
        running = not self.session.ended and self.recorder.state in ("starting", "running")
        self._stop.set()
        self.session.close()
        status = exit_status(self.recorder.exit_code if self.recorder.exit_code is not None
                             else self.session.returncode)  # fmt: skip
        code = quit_status(self.stopped_by_user or running, status)
        self.exit(code, return_code=code)

    def on_unmount(self) -> None:
        self._stop.set()
        self.session.close()


def run_script_app(
    target: str, args: list[str], *, module: bool = False, every: int | None = None
) -> int:
    """Run the script under the app in this terminal; the exit status is the script's."""
    session = RunSession(target, args, module=module, capture_output=True, every=every)
    result = RunApp(session).run()
    return result if isinstance(result, int) else 0
