"""The ``e`` dialog: pick a report format and a file name; Enter writes it."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

FORMATS = (  # (format name for write_report, label, file suffix)
    ("html", "HTML", ".html"),
    ("json", "JSON", ".json"),
    ("markdown", "Markdown", ".md"),
    ("chrome-trace", "Chrome trace", ".trace.json"),
)


def default_path(target: str, fmt: str) -> str:
    """``netscope-<model>.<ext>`` in the current directory."""
    stem = Path(target.split(":")[0]).stem or "model"
    suffix = next(s for name, _, s in FORMATS if name == fmt)
    return os.path.join(os.getcwd(), f"netscope-{stem}{suffix}")


class ExportScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with (format, path), or None when cancelled."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 90%; max-width: 90; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    ExportScreen RadioSet { layout: horizontal; width: 100%; }
    ExportScreen Label { margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, target: str, fmt: str = "html") -> None:
        super().__init__()
        self.target = target
        self.fmt = fmt

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export report"
            box.border_subtitle = "Enter writes · Tab: format · Escape cancels"
            with RadioSet(id="export-format"):
                for name, label, _ in FORMATS:
                    yield RadioButton(label, value=name == self.fmt, name=name)
            yield Label("File:")
            yield Input(default_path(self.target, self.fmt), id="export-path")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        new_fmt = event.pressed.name or "html"
        if path_input.value == default_path(self.target, self.fmt):
            path_input.value = default_path(self.target, new_fmt)
        self.fmt = new_fmt

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if path:
            self.dismiss((self.fmt, os.path.abspath(os.path.expanduser(path))))

    def action_cancel(self) -> None:
        self.dismiss(None)
