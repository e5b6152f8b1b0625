"""The app on a diff (``netscope diff A B --app``): one screen, no worker (both reports are
already read); ``q`` quits with status 0."""

from __future__ import annotations

from textual.app import App

from netscope.app.screens.diff_screen import DiffScreen
from netscope.engine.diff.model import ReportDiff


class DiffApp(App[None]):
    TITLE = "netscope diff"

    def __init__(self, diff: ReportDiff) -> None:
        super().__init__()
        self.diff = diff

    def on_mount(self) -> None:
        self.push_screen(DiffScreen(self.diff))


def run_diff_app(diff: ReportDiff) -> None:
    DiffApp(diff).run()
