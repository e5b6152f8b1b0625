"""Right pane: details of the selected row, with the tie group's members to jump between."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive, var
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from netscope.app.details_text import describe
from netscope.app.live_state import LiveState
from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.app.widgets.details_body import DetailsBody


class DetailsPanel(Vertical):
    DEFAULT_CSS = """
    DetailsPanel { padding: 0 0 0 1; }
    DetailsPanel > #tie-members {
        height: auto; max-height: 8; display: none; margin: 0 1 0 0;
        border: round $warning; border-title-color: $text; border-title-style: bold;
        border-title-background: $warning-muted;
    }
    DetailsPanel > #tie-members.-shown { display: block; }
    DetailsPanel > #tie-members:focus { border: round $accent; }
    """

    # repaint=False: the body and the member list repaint themselves; repainting this container
    # too would redraw the whole pane's background on every key
    key: reactive[NodeKey | None] = reactive(None, always_update=True, repaint=False)
    live: var[LiveState] = var(LiveState, always_update=True)  # bound by MainScreen
    index: var[TreeIndex | None] = var(None, always_update=True)  # a new snapshot: redraw

    class JumpTo(Message):
        """The user picked a tie-group member: the tree should move there."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: RenderableType = ""
        self._redraw_due = False
        self._members_due = False

    def compose(self) -> ComposeResult:
        yield DetailsBody(id="details-body")
        yield OptionList(id="tie-members")

    def watch_key(self) -> None:
        """A new selection is drawn at once, inside the handler that moved the tree's cursor: the
        body's repaint is then asked for together with the tree's and both land in one frame.
        Scheduled (call_next), it reached the screen after the tree's, a frame later (~30 ms)."""
        self._members_due = self._redraw_due = True
        self._redraw_now()

    def watch_live(self, old: LiveState, new: LiveState) -> None:
        if new.shows_other_results_than(old):
            self._schedule(members=False)

    def watch_index(self) -> None:
        self._schedule(members=False)

    def _schedule(self, members: bool) -> None:
        """Redraw once the pending messages are handled (new results or a new snapshot): changes
        that arrive together cost one redraw. A new selection is drawn at once (watch_key)."""
        self._members_due = self._members_due or members
        if not self._redraw_due:
            self._redraw_due = True
            self.call_next(self._redraw_now)

    def _redraw_now(self) -> None:
        if not self._redraw_due:  # drawn already, by a selection that came meanwhile
            return
        members, self._members_due, self._redraw_due = self._members_due, False, False
        self._redraw(members)

    def _redraw(self, members: bool) -> None:
        if not self.is_mounted:
            return
        body = self.query_one(DetailsBody)
        if self.index is None:
            body.show("")
            return
        self.shown = describe(self.key, self.index, self.live)
        body.show(self.shown)
        if members:
            self._show_members()

    def _show_members(self) -> None:
        options = self.query_one("#tie-members", OptionList)
        options.clear_options()
        names = self.tie_members()
        options.set_class(len(names) > 1, "-shown")
        if len(names) > 1:
            current = self.key.name if self.key else ""
            for name in names:
                marker = "▶ " if name == current else "  "
                options.add_option(Option(f"{marker}{name}", id=name))
            options.border_title = f"tied with {len(names) - 1} more · t or Enter jumps"

    @property
    def plain_text(self) -> str:
        """What the pane shows, as plain text (tests, copy)."""
        console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
        console.print(self.shown)
        return console.export_text()

    def tie_members(self) -> tuple[str, ...]:
        if self.index is None or self.key is None or self.key.kind == "block":
            return ()
        return self.index.snapshot.tie_members(self.key.name)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.JumpTo(event.option.id))
