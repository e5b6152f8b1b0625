"""The ``e`` dialog: pick a report format and a file name; Enter writes it."""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

from netscope.engine.options import split_target
from netscope.report.write import FORMATS as ALL
from netscope.report.write import LABELS, SUFFIXES

# (format name for write_report, label, file suffix), HTML first: the one people open
FORMATS = tuple(
    (name, LABELS[name], SUFFIXES[name]) for name in ("html", *(f for f in ALL if f != "html"))
)
# a run report has no profile of a model's step to trace: write_run_report refuses chrome-trace
RUN_FORMATS = tuple(f for f in FORMATS if f[0] != "chrome-trace")


def default_path(target: str, fmt: str) -> str:
    """``netscope-<model>.<ext>`` in the current directory."""
    stem = Path(split_target(target)[0]).stem or "model"
    return os.path.join(os.getcwd(), f"netscope-{stem}{SUFFIXES[fmt]}")


def swap_suffix(path: str, old_fmt: str, new_fmt: str) -> str:
    """The same file name with the new format's extension (``x.html`` -> ``x.md``)."""
    old, new = SUFFIXES[old_fmt], SUFFIXES[new_fmt]
    return (path[: -len(old)] if path.endswith(old) else path) + new


class FormatChoice(RadioSet):
    """Arrows pick a format at once (no separate Space to confirm); Enter writes the report."""

    BINDINGS = [
        Binding("down,right", "pick(1)", "Next format", show=False),
        Binding("up,left", "pick(-1)", "Previous format", show=False),
        Binding("enter", "write", "Write", show=False),
    ]

    class Write(Message):
        """Enter on the format row: write with what the dialog shows."""

    def action_pick(self, step: int) -> None:
        buttons = list(self.query(RadioButton))
        current = next((i for i, b in enumerate(buttons) if b.value), 0)
        buttons[(current + step) % len(buttons)].value = True

    def action_write(self) -> None:
        self.post_message(self.Write())


class ExportScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with (format, path), or None when cancelled."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 90%; max-width: 90; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    ExportScreen FormatChoice { layout: horizontal; width: 100%; }
    ExportScreen Label { margin-top: 1; color: $text-muted; }
    ExportScreen #export-path { margin-bottom: 1; }
    ExportScreen #export-error { width: 100%; margin: 0 0 1 0; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        target: str,
        fmt: str = "html",
        formats: tuple[tuple[str, str, str], ...] = FORMATS,
        path: str | None = None,
        error: str = "",
    ) -> None:
        """``path``: the file the user typed last (kept when writing it failed: ``error``)."""
        super().__init__()
        self.target = target
        self.fmt = fmt
        self.formats = formats
        self.path = path or default_path(target, fmt)
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export report"
            box.border_subtitle = "Enter writes · Escape cancels"
            yield Label("Format (Tab here, then ←/→):")
            with FormatChoice(id="export-format"):
                for name, label, _ in self.formats:
                    yield RadioButton(label, value=name == self.fmt, name=name)
            yield Label("File (the extension follows the format):")
            yield Input(self.path, id="export-path")
            if self.error:
                yield Label(f"Not written: {self.error}", id="export-error")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        path_input = self.query_one("#export-path", Input)
        new_fmt = event.pressed.name or "html"
        path_input.value = swap_suffix(path_input.value, self.fmt, new_fmt)
        self.fmt = new_fmt

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._write()

    def on_format_choice_write(self, event: FormatChoice.Write) -> None:
        event.stop()
        self._write()

    def _write(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if path:
            self.dismiss((self.fmt, os.path.abspath(os.path.expanduser(path))))
        else:
            self.notify("Type a file name first", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
