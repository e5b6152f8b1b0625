"""The app of `netscope run --nproc-per-node N script.py`: torchrun's ranks in one view.

The run app (rank 0's tree, step, phases; torchrun's output) with a Ranks tab. A worker thread
polls the collector; the folding into the ``RanksRecorder`` happens on the app's thread.
``q`` / Ctrl+C stop torchrun (SIGINT, which it passes to the ranks; SIGTERM after 5 s)."""

from __future__ import annotations

import threading
from typing import Literal

from textual.message import Message

from netscope.app.run_app import RunApp, quit_status
from netscope.app.screens.run_ranks import RanksRunScreen
from netscope.engine.errors import NetscopeError
from netscope.engine.run.dist_session import DistSession
from netscope.engine.run.messages import ScriptOutput
from netscope.report.run_tables import run_state_text


class RankEvent(Message):
    def __init__(
        self,
        item: tuple[object, object] | None,
        ended: bool = False,
        lines: list[ScriptOutput] | None = None,
    ) -> None:
        super().__init__()
        self.item, self.ended, self.lines = item, ended, lines or []


class RanksApp(RunApp):
    TITLE = "netscope run (ranks)"

    def __init__(self, session: DistSession) -> None:
        super().__init__(session)  # type: ignore[arg-type]
        self.session = session  # type: ignore[assignment]
        self.recorder = session.recorder  # type: ignore[assignment]
        self.main = RanksRunScreen()
        self.ended = False

    def _pump(self, stop: threading.Event) -> None:  # type: ignore[override]
        session: DistSession = self.session  # type: ignore[assignment]
        try:
            session.start()
            while not stop.is_set() and not session.ended:
                item = session.poll(0.2)
                lines = []
                while session.output:
                    lines.append(session.output.popleft())
                if item is not None or lines:
                    self.post_message(RankEvent(item, lines=lines))
        except (NetscopeError, OSError) as exc:
            error = ScriptOutput("stderr", f"netscope: error: {exc}")
            self.post_message(RankEvent(None, lines=[error]))
        self.post_message(RankEvent(None, ended=True))

    def on_rank_event(self, message: RankEvent) -> None:
        if message.lines:
            self.output.extend(message.lines)
            self.dirty = True
        if message.item is not None:
            self.recorder.feed(*message.item)  # type: ignore[arg-type, call-arg]
            self.dirty = True
        if message.ended and not self.ended:
            self.ended = True
            session: DistSession = self.session  # type: ignore[assignment]
            self.recorder.close_silent(session.returncode)  # type: ignore[attr-defined]
            self.dirty = True
            self._refresh()
            report = self.recorder.report()
            severity: Literal["error", "information"] = (
                "error" if report.state == "crashed" else "information"
            )
            text = f"The job {run_state_text(report)}."
            if report.straggler is not None:
                text += f" Straggler: rank {report.straggler}."
            self.notify(text + " e exports the run report; q quits.",
                        severity=severity, timeout=15)  # fmt: skip

    def _report_code(self) -> int:
        session: DistSession = self.session  # type: ignore[assignment]
        report = self.recorder.report()  # type: ignore[call-arg]
        code = session.returncode or report.exit_code or 0
        return code or (1 if report.state == "crashed" else 0)

    def action_stop_or_quit(self) -> None:
        if not self.ended:
            self.stopped_by_user = True
            self.session.stop()
            self.notify("Stopping torchrun (SIGINT; SIGTERM in 5 s)…", timeout=6)
            return
        self.action_quit()

    def action_quit(self) -> None:  # type: ignore[override]
        self._stop.set()
        self.session.close()
        stopped = self.stopped_by_user or not self.ended
        code = quit_status(stopped, 0 if stopped else self._report_code())
        self.exit(code, return_code=code)


def run_ranks_app(
    target: str,
    args: list[str],
    *,
    module: bool = False,
    nproc_per_node: int,
    every: int | None = None,
) -> int:
    session = DistSession(
        target, args, module=module, nproc_per_node=nproc_per_node, every=every,
        capture_output=True,
    )  # fmt: skip
    result = RanksApp(session).run()
    return result if isinstance(result, int) else 0
