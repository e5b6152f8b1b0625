"""A DataTable that redraws from a reactive tuple of rows; the blocks/copies/syncs tabs use it.

Rows are compared before redrawing: every worker event re-sends every table's rows, and
clearing and refilling a DataTable asks for a layout of the whole screen."""

from __future__ import annotations

from collections.abc import Sequence

from textual.reactive import reactive
from textual.widgets import DataTable

from netscope.app.live_state import LiveState

NOT_MEASURED = "not measured yet"


def not_measured(live: LiveState) -> str:
    """What a table with no result says: not yet, or never (profiling failed, and where)."""
    return f"not measured: {live.failed}" if live.failed else NOT_MEASURED


class ResultTable(DataTable):
    DEFAULT_CSS = """
    ResultTable { height: 1fr; }
    """
    COLUMNS: tuple[str, ...] = ()
    EMPTY = NOT_MEASURED
    NONE = "none found"

    shown_rows: reactive[tuple[tuple[str, ...], ...] | None] = reactive(None)

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        self.add_columns(*self.COLUMNS)
        self.watch_shown_rows(self.shown_rows)

    def watch_shown_rows(self, rows: Sequence[tuple[str, ...]] | None) -> None:
        if not self.columns:  # before on_mount: it draws the rows once the columns exist
            return
        self.clear()
        if rows is None:
            self.add_row(self.EMPTY, *[""] * (len(self.COLUMNS) - 1))
        elif not rows:
            self.add_row(self.NONE, *[""] * (len(self.COLUMNS) - 1))
        for row in rows or ():
            self.add_row(*row)

    def say_none(self, text: str) -> None:
        """What the empty table says (in how many sampled steps none was seen): redrawn when
        it changes while the rows stay empty."""
        if text != self.NONE:
            self.NONE = text
            if self.shown_rows == ():
                self.watch_shown_rows(())

    def say_empty(self, text: str) -> None:
        """What the table says while it has no result: redrawn when it changes then."""
        if text != self.EMPTY:
            self.EMPTY = text
            if self.shown_rows is None:
                self.watch_shown_rows(None)

    @property
    def data_rows(self) -> list[tuple[str, ...]]:
        """The rows shown, as text (for tests and for copying)."""
        return [tuple(str(c) for c in self.get_row_at(i)) for i in range(self.row_count)]
