"""The Textual app on an in-memory model's report: the engine already ran in this process, so
the app replays its result (no worker, nothing re-loaded); ``p`` shows the same result again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm

if TYPE_CHECKING:
    from netscope.app.app import NetscopeApp
    from netscope.python_api.report import Report


def report_app(report: Report) -> NetscopeApp:
    """The app over ``report``: its snapshot, and its profile when it has one."""
    from netscope.app.app import make_app
    from netscope.app.replay import ReplaySource

    snapshot = report.snapshot
    messages: list[wm.WorkerMessage] = [wm.SnapshotReady(snapshot)]
    messages.append(wm.Finished(report.profile))
    load = LoadOptions(target=snapshot.target, device=snapshot.device)
    profiled = report.profile is not None
    return make_app(load, ProfileOptions(), source=ReplaySource(messages), autostart=profiled)


def run_report_app(report: Report) -> int:
    """Run the app in this terminal until the user quits; its exit status (0, or 130 on
    Ctrl+C)."""
    result = report_app(report).run()
    return result if isinstance(result, int) else 0
