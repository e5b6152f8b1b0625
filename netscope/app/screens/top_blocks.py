"""The ``b`` screen: the blocks that do the most of the step, by FLOPs or by the activations they
save for backward; j k (or the arrows) move, Enter jumps to the block in the tree, ``c`` switches
the figure."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from netscope.app import format as fmt
from netscope.app.tree_index import TOP_MEASURES, TopBlock, TreeIndex

TOP = 20
# A row's figure is the block's self figure: its inclusive one less its child blocks' (so a
# container that only sums its children is not listed and no FLOP counts twice in the shares)
TITLES = {
    "flops": "Top blocks by self FLOPs (child blocks excluded)",
    "memory": "Top blocks by self saved activations (child blocks excluded)",
}
HOW = {
    "flops": "self: a block's FLOPs (forward + backward) less its child blocks'",
    "memory": "self: the activations a block saves for backward less its child blocks'",
}
NOT_COUNTED = {
    "flops": "No FLOPs counted: no example forward ran.",
    "memory": "No saved activations counted: no forward with grad ran (a meta model, "
    "--no-backward, or no example forward).",
}


COLUMNS = ("#", "block", "type", "self", "share", "inclusive")
BLOCK = COLUMNS.index("block")
MIN_BLOCK = 12  # below this the path is cut no further (the table scrolls instead)


def elide_path(path: str, width: int) -> str:
    """The path's end within ``width`` ("…h.0.attn.c_attn"): its last parts tell it apart; the
    cut falls after a dot where one is in the part kept."""
    if len(path) <= width:
        return path
    tail = path[len(path) - (width - 1) :]
    dot = tail.find(".")
    if 0 <= dot < len(tail) - 1:
        tail = tail[dot + 1 :]
    return "…" + tail


def fit_block_column(rows: list[list[str]], width: int, padding: int = 1) -> list[list[str]]:
    """The rows with each block path cut to what ``width`` leaves it after the other columns
    (each as wide as its widest cell or heading, ``padding`` cells either side): the figures
    on the right, the inclusive one last, stay whole in a narrow terminal."""
    others = sum(
        max([len(COLUMNS[c]), *(len(row[c]) for row in rows)]) + 2 * padding
        for c in range(len(COLUMNS))
        if c != BLOCK
    )
    room = max(MIN_BLOCK, width - others - 2 * padding)
    return [[*row[:BLOCK], elide_path(row[BLOCK], room), *row[BLOCK + 1 :]] for row in rows]


class TopBlocksScreen(ModalScreen[str | None]):
    """Dismissed with the chosen block's path (Enter), or None (Escape)."""

    DEFAULT_CSS = """
    TopBlocksScreen { align: center middle; }
    TopBlocksScreen > Vertical {
        width: 96%; max-width: 110; height: 90%; max-height: 30;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    TopBlocksScreen #top-how { color: $text-muted; height: auto; }
    TopBlocksScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q,b", "close", "Close"),
        Binding("c", "switch", "FLOPs / memory"),
        Binding("j", "move(1)", "Down", show=False),  # as in the tree
        Binding("k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, index: TreeIndex, measure: str = "flops") -> None:
        super().__init__()
        self.index = index
        self.measure = measure if measure in TOP_MEASURES else "flops"
        self.rows: list[TopBlock] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_subtitle = (
                "j k move · Enter jumps to the block · c FLOPs / memory · Escape closes"
            )
            yield Static(id="top-how")
            yield DataTable(id="top-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self._fill()
        table.focus()
        self.call_after_refresh(self._fill)  # the table's width is known once laid out

    def on_resize(self) -> None:
        self._fill()

    def _fill(self, keep_cursor: bool = True) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)  # the columns too: each sized anew to what it holds
        table.add_columns(*COLUMNS)
        measure = self.measure
        total = self.index.step_total(measure)
        self.rows = self._once_per_module(self.index.top_blocks(measure, 2 * TOP))[:TOP]
        box = self.query_one(Vertical)
        box.border_title = TITLES[measure]
        shown = fmt.flops(total) if measure == "flops" else f"{fmt.size(total)} saved"
        how = f"{HOW[measure]}; share: of the step's {shown}"
        if self.rows:
            how += f" (top {len(self.rows)})"
        if not self.rows:
            how = NOT_COUNTED[measure] if total is None else f"{HOW[measure]}: none above 0."
        self.query_one("#top-how", Static).update(how)
        figure = fmt.flops if measure == "flops" else fmt.size
        cells = [
            [
                str(rank),
                row.path or "(root)",
                row.type,
                figure(row.own),
                fmt.share(row.share, 1.0),
                figure(row.inclusive),
            ]
            for rank, row in enumerate(self.rows, 1)
        ]
        if table.size.width > 0:  # laid out: paths cut to leave the figures whole
            width = table.size.width - table.styles.scrollbar_size_vertical  # one may come
            cells = fit_block_column(cells, width, table.cell_padding)
        for row, texts in zip(self.rows, cells, strict=True):
            table.add_row(*texts, key=row.path)
        if keep_cursor:  # refilled at a new width: the same row stays selected
            table.move_cursor(row=min(cursor, max(table.row_count - 1, 0)))

    def _once_per_module(self, rows: list[TopBlock]) -> list[TopBlock]:
        """A block reused under several paths is one module: listed once (its first path)."""
        listed: list[TopBlock] = []
        seen: set[str] = set()
        for row in rows:
            if row.path in seen:
                continue
            block = self.index.block(row.path)
            seen.update(block.aliases if block is not None else ())
            listed.append(row)
        return listed

    @property
    def data_rows(self) -> list[tuple[str, ...]]:
        """The rows shown, as text (tests)."""
        table = self.query_one(DataTable)
        return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]

    def action_switch(self) -> None:
        at = TOP_MEASURES.index(self.measure)
        self.measure = TOP_MEASURES[(at + 1) % len(TOP_MEASURES)]
        self._fill(keep_cursor=False)

    def action_move(self, rows: int) -> None:
        table = self.query_one(DataTable)
        if rows > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.dismiss(event.row_key.value)

    def action_close(self) -> None:
        self.dismiss(None)
