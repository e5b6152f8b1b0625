"""The main screen: tree left, details right, live tabs below; filter, match and tie jumps."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import Reactive, var
from textual.screen import Screen
from textual.widgets import Footer, Tree

from netscope.app.details_step import forward_ran
from netscope.app.labels import COLUMN_TITLES, COLUMNS
from netscope.app.live_state import LiveEvent, LiveState
from netscope.app.screens.top_blocks import TopBlocksScreen
from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.app.widgets.filter_bar import FilterBar
from netscope.app.widgets.live_panels import LivePanels
from netscope.app.widgets.progress_line import ProgressLine
from netscope.app.widgets.quiet_header import QuietHeader
from netscope.engine.model import Snapshot


class MainScreen(Screen):
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Prev match", show=False),
        Binding("t", "next_tie", "Next tied", show=False),
        Binding("c", "cycle_column", "Column"),
        Binding("b", "top_blocks", "Top"),
    ]

    # Screen.sub_title repaints the whole screen when it changes; only the header shows it (and
    # it watches the value), so `n` ("match 3/100") repaints one line, not a 160x48 frame
    sub_title: Reactive[str | None] = Reactive(None, compute=False, repaint=False)
    # what the profiler has measured: replaced (never changed) by ``record`` alone; the panels
    # and the details are bound to it and redraw the parts that are new objects
    live: var[LiveState] = var(LiveState, always_update=True)

    def __init__(self) -> None:
        super().__init__()
        self.index: TreeIndex | None = None
        self.matches: list[NodeKey] = []
        self.match_at = -1
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield QuietHeader(icon="◎")
        yield ProgressLine()
        with Horizontal(id="body"):
            yield BlockTree(id="tree")
            yield DetailsPanel(id="details").data_bind(MainScreen.live)
        yield LivePanels(id="live").data_bind(MainScreen.live)
        yield FilterBar(id="filter")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(BlockTree)
        tree.cursor_moved = self._select
        tree.focus()

    # --- data in --------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot, complete: bool = True) -> None:
        """Show the tree; a later call (the full snapshot after the structure) updates it in
        place: the cursor, the expanded blocks and the filter stay. ``complete`` False: calls,
        outputs, statistics and gradients are still being computed."""
        first = self.index is None
        self.index = TreeIndex(snapshot, complete)
        details = self.query_one(DetailsPanel)
        details.index = self.index
        tree = self.query_one(BlockTree)
        if first:
            tree.show(self.index)
            tree.focus()
        elif self.query_text:  # markers (nan, unused) may match other rows now
            selected = tree.selected_key
            tree.index = self.index
            self.apply_filter(self.query_text)
            if selected is not None and not tree.is_filtered_out(selected):
                tree.reveal(selected)
        else:
            tree.update_index(self.index)
        details.key = tree.selected_key  # always redrawn: the same row has new facts

    def record(self, event: LiveEvent) -> None:
        """The one place live state changes: a new value, bound widgets redraw what is new."""
        self.live = self.live.after(event)

    def record_all(self, events: Sequence[LiveEvent]) -> None:
        """``record`` for several events at once: one new value, one redraw."""
        state = self.live
        for event in events:
            state = state.after(event)
        self.live = state

    # --- selection ------------------------------------------------------------------------

    def _select(self, key: NodeKey | None) -> None:
        details = self.query_one(DetailsPanel)
        if details.key != key or key is None:
            details.key = key

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeKey]) -> None:
        self._select(event.node.data)

    def jump(self, key: NodeKey) -> bool:
        tree = self.query_one(BlockTree)
        if tree.is_filtered_out(key):
            self.apply_filter("")  # the target is filtered out: show the whole tree again
        found = tree.reveal(key)
        if found:
            self._select(key)
        return found

    def on_details_panel_jump_to(self, event: DetailsPanel.JumpTo) -> None:
        if self.index is not None:
            info = self.index.snapshot.tensor_by_name.get(event.name)
            if info is not None:
                self.jump(NodeKey(info.kind, info.name, info.block))
                self.query_one(BlockTree).focus()

    # --- filter and matches ---------------------------------------------------------------

    def action_filter(self) -> None:
        if self.index is not None:
            self.query_one(FilterBar).open()

    def action_clear_filter(self) -> None:
        if self.query_text:
            self.apply_filter("")

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self.apply_filter(event.query)
        self.query_one(BlockTree).focus()

    def apply_filter(self, query: str) -> None:
        if self.index is None:
            return
        self.query_text = query
        self.query_one(FilterBar).value = query
        tree = self.query_one(BlockTree)
        if not query:  # the whole tree again, the user's place kept: the row under the cursor
            place = tree.selected_key
            self.matches, self.match_at = [], -1
            tree.show(self.index)
            if place is not None and tree.reveal(place):
                self._select(place)
            self.sub_title = None  # back to the app's: the target
            return
        self.matches = self.index.matches(query)
        tree.show(self.index, self.matches)
        self.match_at = -1
        if self.matches:
            self.action_next_match()
        else:
            self.notify(f"No row matches {query!r}", severity="warning")
        self.sub_title = f"{self.app.sub_title} · filter {query!r}: {len(self.matches)} matches"

    def _step_match(self, step: int) -> None:
        if not self.matches:
            if self.query_text:
                self.notify(f"No row matches {self.query_text!r}", severity="warning")
            return
        self.match_at = (self.match_at + step) % len(self.matches)
        self.jump(self.matches[self.match_at])
        self.sub_title = (
            f"filter {self.query_text!r}: match {self.match_at + 1}/{len(self.matches)}"
        )

    def action_next_match(self) -> None:
        self._step_match(+1)

    def action_previous_match(self) -> None:
        self._step_match(-1)

    def action_next_tie(self) -> None:
        details = self.query_one(DetailsPanel)
        members = details.tie_members()
        key = details.key
        if key is None or len(members) < 2 or self.index is None:
            self.notify("The selected row is not a tied parameter", severity="warning")
            return
        target = members[(members.index(key.name) + 1) % len(members)]
        info = self.index.snapshot.tensor_by_name.get(target)
        if info is None or not self.jump(NodeKey(info.kind, info.name, info.block)):
            self.notify(f"{target} is not a row of the tree", severity="warning")

    # --- the tree's figure and the top blocks --------------------------------------------

    def action_cycle_column(self) -> None:
        """The block rows' figure: parameters -> FLOPs -> saved activations -> parameters."""
        tree = self.query_one(BlockTree)
        column = COLUMNS[(COLUMNS.index(tree.column) + 1) % len(COLUMNS)]
        tree.set_column(column)
        note = self._column_note(column)
        self.notify(f"Tree shows {COLUMN_TITLES[column]}{note}", timeout=4)

    def _column_note(self, column: str) -> str:
        """What the figure counts on this model: forward only, or not counted at all."""
        if self.index is None or column == "params":
            return ""
        if column == "memory":
            if self.index.step_total("memory") is not None:
                return ""
            why = "the forward ran without grad" if forward_ran(self.index) else "no forward ran"
            return f": not counted ({why})"
        compute = self.index.snapshot.compute
        if compute is None:
            return ": not counted (no example forward ran)"
        return ", forward only (no backward ran)" if compute.backward_flops is None else ""

    def action_top_blocks(self) -> None:
        if self.index is None:
            self.notify("The model is still loading", severity="warning")
            return
        measure = "memory" if self.query_one(BlockTree).column == "memory" else "flops"
        self.app.push_screen(TopBlocksScreen(self.index, measure), self._jump_to_block)

    def _jump_to_block(self, path: str | None) -> None:
        if path is None or self.index is None or self.index.block(path) is None:
            return
        if self.jump(NodeKey("block", path, "")):
            self.query_one(BlockTree).focus()
