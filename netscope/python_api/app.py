"""The Textual app on an in-memory model's report: the engine already ran in this process, so
the app replays its result (no worker, nothing re-loaded); ``p`` shows the same result again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netscope.engine.model import Profile, Snapshot
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.profiler import messages as wm

if TYPE_CHECKING:
    from netscope.app.app import NetscopeApp


def report_app(snapshot: Snapshot, profile: Profile | None = None) -> NetscopeApp:
    """The app over a report's snapshot, and its profile when it has one."""
    from netscope.app.app import make_app
    from netscope.app.replay import ReplaySource

    messages: list[wm.WorkerMessage] = [wm.SnapshotReady(snapshot), wm.Finished(profile)]
    # the class names the model in the title and the export's default file (netscope-GPT2.html)
    load = LoadOptions(target=snapshot.model_class, device=snapshot.device)
    source = ReplaySource(messages)
    return make_app(load, ProfileOptions(), source=source, autostart=profile is not None)


def run_report_app(snapshot: Snapshot, profile: Profile | None = None) -> int:
    """Run the app in this terminal until the user quits; its exit status (0, or 130 on
    Ctrl+C)."""
    result = report_app(snapshot, profile).run()
    return result if isinstance(result, int) else 0
