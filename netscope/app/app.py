"""The netscope Textual app: session control (worker, pump, keys); layout lives in MainScreen."""

from __future__ import annotations

import gc
import os
import threading
import time
from contextlib import suppress
from functools import partial

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import Input

from netscope.app.details_step import fit_summary
from netscope.app.gc_pause import GcPause
from netscope.app.live_hold import LiveHold
from netscope.app.live_state import LiveState, NotMeasurable, SessionStarted
from netscope.app.messages import SystemUpdate, TimingUpdate, WorkerEvent
from netscope.app.replay import ReplaySource
from netscope.app.screens.error import ErrorScreen
from netscope.app.screens.export import FORMATS, ExportScreen
from netscope.app.screens.help import HelpScreen
from netscope.app.screens.main import MainScreen
from netscope.app.source import DataSource, SourceFactory, pump, worker_factory
from netscope.app.widgets.progress_line import ProgressLine
from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm
from netscope.units import params_phrase

CHECKPOINT_ALONE = "a checkpoint alone: no model to run"


class NetscopeApp(App[int]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "netscope"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        # priority: runs before the next keys are routed, so they land in the filter prompt
        Binding("slash", "filter", "Filter", priority=True),
        Binding("q", "quit", "Quit"),
        # as in htop or py-spy top: quit like q (worker stopped), exit status 130 (interrupted);
        # priority: also from the filter prompt, the export dialog and the error screen
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("p", "profile", "Profile"),
        Binding("e", "export", "Export"),
        Binding("s", "screenshot", "Screenshot"),
    ]

    def __init__(
        self,
        load: LoadOptions,
        factory: SourceFactory,
        autostart: bool = True,
        first: DataSource | None = None,
    ) -> None:
        super().__init__()
        self._first = first  # the first session, already started (the CLI starts it early)
        self.load = load
        self.factory = factory
        self.autostart = autostart and load.profilable  # a meta model is never profiled
        self.source: DataSource | None = None
        self.generation = 0
        self._stop = threading.Event()
        self.snapshot: Snapshot | None = None
        self.status = "off"  # off | running | paused | done | failed | loading | meta
        self.exit_code = 0
        self.last_export: str | None = None
        self.export_choice: tuple[str, str] | None = None  # (format, path) of the last export
        self.last_screenshot: str | None = None
        self.main = MainScreen()
        # step times and system samples that arrive while keys come in wait (live_hold.py)
        self._live_hold: LiveHold[TimingUpdate | SystemUpdate] = LiveHold()
        self._live_hold_timer: Timer | None = None
        self._gc_pause = GcPause()  # no collection while keys come in (gc_pause.py)
        self._gc_timer: Timer | None = None

    def get_default_screen(self) -> MainScreen:
        return self.main

    @property
    def live(self) -> LiveState:
        """What the profiler has measured so far (owned by the main screen, read-only here)."""
        return self.main.live

    def on_mount(self) -> None:
        self.sub_title = display_path(self.load.target_path)
        self.call_after_refresh(self.start_session, self.autostart)  # once the tabs are mounted

    # --- the worker session ---------------------------------------------------------------

    def start_session(self, profile: bool) -> None:
        """Start a fresh source and the thread that pumps its messages into the app."""
        self.stop_session()
        self.generation += 1
        self._stop = threading.Event()
        started, self._first = self._first, None
        self.source = started if started is not None else self.factory(profile)
        self.status = "running" if profile else "off" if self.load.profilable else "meta"
        if profile:
            self.main.record(SessionStarted())
        self._show_status()
        work = partial(
            self._pump_thread, self.source, self._stop, self.generation, started is not None
        )
        self.run_worker(work, thread=True, group="pump", name="pump", exit_on_error=False)

    def _pump_thread(
        self, source: DataSource, stop: threading.Event, generation: int, started: bool = False
    ) -> None:
        try:
            if not started:
                source.start()
            if stop.is_set():  # quit while the worker was starting: stop it, not just the pump
                source.cancel()
                return
            pump(source, self.post_message, stop, generation)
        except NetscopeError as exc:
            error = wm.WorkerError(
                str(exc), location=exc.location, traceback_tail=exc.traceback_tail
            )
            self.post_message(WorkerEvent(error, generation))
        except Exception as exc:  # the app must survive a broken worker and say why
            self.post_message(
                WorkerEvent(wm.WorkerError(f"{type(exc).__name__}: {exc}"), generation)
            )

    def stop_session(self) -> None:
        self._stop.set()
        # a live session is finished (measurements complete) but still timing the step
        if self.source is not None and (self.source.live or not self.source.finished):
            self.source.cancel()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._live_hold.key()
            self._gc_pause.key()
            if self._gc_pause.paused and self._gc_timer is None:
                self._gc_timer = self.set_timer(self._gc_pause.check() or 0.0, self._check_gc)
        await super().on_event(event)

    def _check_gc(self) -> None:
        self._gc_timer = None
        wait = self._gc_pause.check()
        if wait is not None:
            self._gc_timer = self.set_timer(wait, self._check_gc)

    def on_worker_event(self, message: WorkerEvent) -> None:
        self._release_live()  # live updates held back come first, in the order they came
        if message.generation == self.generation:
            with suppress(NoMatches):  # a message that lands while the app closes is dropped
                self._worker_event(message.event)

    def _worker_event(self, event: wm.WorkerMessage) -> None:
        progress = self.main.query_one(ProgressLine)
        if isinstance(event, wm.Progress):
            progress.stage = f"{event.stage} {event.detail}".strip()
        elif isinstance(event, wm.StructureReady):
            if self.snapshot is None:  # the tree first; a later session's is already shown
                self.main.show_snapshot(event.snapshot, complete=False)
                self._show_summary(event.snapshot)
        elif isinstance(event, wm.SnapshotReady):
            self._snapshot_ready(event.snapshot)
        elif isinstance(event, wm.WorkerError):
            self._worker_failed(event)
        else:
            self.main.record(event)
            if isinstance(event, wm.Finished):
                progress.stage = ""
                live = self.source is not None and self.source.live  # it keeps timing the step
                if self.status in ("running", "paused") and not live:
                    self.status = "done"
                self._show_status("· measurements complete" if live else "")

    def _snapshot_ready(self, snapshot: Snapshot) -> None:
        first = self.snapshot is None
        self.snapshot = snapshot
        # The snapshot lives as long as the app: keep its objects out of the collector's scans,
        # which otherwise stall a 10,000-block tree's updates and keys
        gc.freeze()
        if first:  # over the structure if it came first: cursor and expanded rows stay
            self.main.show_snapshot(snapshot)
        self._show_summary(snapshot)
        if snapshot.kind == "checkpoint":  # tensors alone: no model to run, so none is timed
            self.status = "checkpoint"
            self._show_status()
            self.main.record(NotMeasurable(CHECKPOINT_ALONE))
        self.main.query_one(ProgressLine).stage = "profiling" if self.status == "running" else ""

    def _show_summary(self, snapshot: Snapshot) -> None:
        progress = self.main.query_one(ProgressLine)
        counted = params_phrase(snapshot.total_params, snapshot.uninitialized_params)
        summary = f"{snapshot.model_class} · {counted}"
        if snapshot.fit is not None:  # --fit: the verdict on the first screen, at any size
            summary += f" · {fit_summary(snapshot.fit)}"
        progress.summary = summary

    def _worker_failed(self, error: wm.WorkerError) -> None:
        if self.snapshot is not None and self.snapshot.kind == "checkpoint":
            self.main.query_one(ProgressLine).stage = ""  # the worker's try is over
            return  # nothing to profile, as the status says: not a failure of the user's
        if self.snapshot is None:
            self.status = "failed"
            self.push_screen(ErrorScreen(error), self._after_error)
            return
        self.status = "failed"
        self.main.record(error)  # the tables left empty say they never will be filled
        self.main.query_one(ProgressLine).stage = ""
        headline = error_headline(error)
        self._show_status(headline)
        where = f" at {error.location}" if error.location else ""
        self.notify(f"Profiling failed: {headline}{where}", severity="error", timeout=10)

    def _after_error(self, choice: str | None) -> None:
        if choice == "retry":
            self.snapshot = None
            self.main.query_one(ProgressLine).stage = "reloading"
            self.start_session(profile=self.autostart)
        else:
            self.exit_code = 2
            self.action_quit()

    def on_timing_update(self, message: TimingUpdate) -> None:
        self._live_update(message)

    def on_system_update(self, message: SystemUpdate) -> None:
        self._live_update(message)

    def _live_update(self, message: TimingUpdate | SystemUpdate) -> None:
        if message.generation != self.generation:
            return
        if self._live_hold.holding():
            self._live_hold.hold(message)
            if self._live_hold_timer is None:
                self._live_hold_timer = self.set_timer(self._live_hold.due_in(), self._hold_ended)
            return
        self._release_live()
        self.main.record(message)

    def _hold_ended(self) -> None:
        self._live_hold_timer = None
        if self._live_hold and self._live_hold.holding():  # keys kept coming: wait on
            self._live_hold_timer = self.set_timer(self._live_hold.due_in(), self._hold_ended)
            return
        self._release_live()

    def _release_live(self) -> None:
        """Apply the live updates held back, in one new live state (nothing is dropped)."""
        held = [m for m in self._live_hold.take() if m.generation == self.generation]
        if held:
            with suppress(NoMatches):  # a message that lands while the app closes is dropped
                self.main.record_all(held)

    def _show_status(self, detail: str = "") -> None:
        words = {
            "off": "off (press p)",
            "running": "running (p pauses)",
            "paused": "paused (p)",
            "meta": "not profiled (meta)",
            "checkpoint": f"not profiled ({CHECKPOINT_ALONE})",
        }
        text = words.get(self.status, self.status)
        progress = self.main.query_one(ProgressLine)
        progress.profiling = f"{text} {detail}".strip()
        progress.paused = self.status == "paused"

    # --- keys -------------------------------------------------------------------------------

    def action_profile(self) -> None:
        if not self.load.profilable:
            self.notify(
                "A model on meta has no values to time: open it with --device cpu (or cuda) "
                "to profile it",
                severity="warning",
            )
        elif self.snapshot is not None and self.snapshot.kind == "checkpoint":
            self.notify(
                f"{CHECKPOINT_ALONE}: open the model file with --weights CHECKPOINT to profile "
                "it with these weights",
                severity="warning",
            )
        elif self.source is None or self.snapshot is None:
            self.notify("The model is still loading", severity="warning")
        elif self.status == "running":
            self.source.pause()
            self.status = "paused"
        elif self.status == "paused":
            self.source.resume()
            self.status = "running"
        else:
            self.start_session(profile=True)
        self._show_status()

    def action_export(self) -> None:
        if self.snapshot is None:
            self.notify("Nothing to export until the model has loaded", severity="warning")
            return
        fmt, path = self.export_choice or ("html", None)
        self.push_screen(ExportScreen(self.load.target, fmt, path=path), self._write_export)

    def _write_export(self, choice: tuple[str, str] | None) -> None:
        if choice is None or self.snapshot is None:
            return
        fmt, path = self.export_choice = choice  # what was typed: offered again next time
        label = next(label for name, label, _ in FORMATS if name == fmt)
        try:
            from netscope.report.write import write_report

            written = write_report(path, self.snapshot, self.live.as_profile(), fmt)
        except (NetscopeError, OSError, ValueError) as exc:
            self.notify(f"Export failed: {exc}", severity="error", timeout=10)
            # the dialog again, with the path as typed: fix it there, not type it all anew
            screen = ExportScreen(self.load.target, fmt, path=path, error=str(exc))
            self.push_screen(screen, self._write_export)
            return
        self.last_export = written
        self.notify(f"Wrote {label} report to {written}", title="Exported", timeout=8)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        name = filename or time.strftime("netscope-%Y%m%d-%H%M%S.svg")
        self.last_screenshot = self.save_screenshot(filename=name, path=path or os.getcwd())
        self.notify(f"Screenshot saved to {self.last_screenshot}", title="Screenshot", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # only over the tree; in a text field "/" is just a character
            return self.screen is self.main and not isinstance(self.focused, Input)
        if action in ("profile", "export"):
            return not isinstance(self.screen, ErrorScreen)
        return True

    def action_filter(self) -> None:
        self.main.action_filter()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit(self) -> None:  # type: ignore[override]
        self.stop_session()
        self.exit(self.exit_code, return_code=self.exit_code)

    def action_interrupt(self) -> None:
        """Ctrl+C: quit as q does, with the exit status of an interrupted command (130)."""
        self.exit_code = 130
        self.action_quit()

    def on_unmount(self) -> None:
        self.stop_session()
        self._gc_pause.resume()  # never leave the process without its collector


HEADLINE_CHARS = 200


def error_headline(error: wm.WorkerError) -> str:
    """An error in one line for the status and a notification: its first line, cut. torch's
    dispatcher errors run to 60 lines listing every backend, which filled the screen; and
    "finding copies and syncs on cpu failed: ..." reads "in finding copies ...: ..." after the
    status's own "failed"."""
    line = next((part.strip() for part in error.message.splitlines() if part.strip()), "")
    if error.stage and line.startswith(f"{error.stage} failed: "):
        line = f"in {error.stage}: {line[len(error.stage) + len(' failed: ') :]}"
    return line if len(line) <= HEADLINE_CHARS else line[: HEADLINE_CHARS - 1] + "…"


def _same(source: DataSource, _profile: bool) -> DataSource:
    return source


def make_app(
    load: LoadOptions,
    prof: ProfileOptions,
    source: DataSource | None = None,
    autostart: bool = True,
    first: DataSource | None = None,
) -> NetscopeApp:
    """The app over a real WorkerSession, or over ``source`` (tests replay real messages)."""
    factory: SourceFactory = worker_factory(load, prof)
    if isinstance(source, ReplaySource):  # live after Finished only when profiling, as real ones
        factory = source.for_profile
    elif source is not None:
        factory = partial(_same, source)
    return NetscopeApp(load, factory, autostart=autostart, first=first)


def run_app(
    load: LoadOptions,
    prof: ProfileOptions,
    autostart: bool = True,
    first: DataSource | None = None,
) -> int:
    """Run the app in this terminal; the exit code is 0, 2 after quitting on a load error, or
    130 after Ctrl+C. ``first``: the first session, started already (its profile = autostart)."""
    # Start multiprocessing's resource tracker while sys.stderr is still the real one: once the
    # app runs, stderr is captured (fileno() == -1) and spawning the worker would fail.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    result = make_app(load, prof, autostart=autostart, first=first).run()
    return result if isinstance(result, int) else 0
