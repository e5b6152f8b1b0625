"""``netscope diff A B --app``: the totals, the tree with each block's deltas, and the selected
block's figures before and after (times with their noise verdict)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from netscope.app.widgets.diff_tree import DiffTree
from netscope.engine.diff.model import BlockDiff, ReportDiff
from netscope.report.diff_tables import delta_text, time_text, totals_table
from netscope.report.diff_text import table_text
from netscope.units import count, flops, size


def block_details(block: BlockDiff) -> str:
    """The selected block, every figure A -> B."""
    where = block.path or "(root)"
    if block.status == "moved":
        where += f" (was {block.before_path or '(root)'})"
    lines = [f"{where}  {block.type}  [{block.status}]", ""]
    for name, change, show, unit in (
        ("params", block.params, count, "count"),
        ("forward FLOPs", block.forward_flops, flops, "flops"),
        ("backward FLOPs", block.backward_flops, flops, "flops"),
        ("saved activations", block.saved_bytes, size, "bytes"),
    ):
        before = show(None if change.before is None else int(change.before))
        after = show(None if change.after is None else int(change.after))
        lines.append(f"{name}: {before} -> {after}  {delta_text(change, unit)}")
    lines += [f"time on {t.name}: {time_text(t)}" for t in block.times]
    return "\n".join(lines)


class DiffScreen(Screen[None]):
    DEFAULT_CSS = """
    DiffScreen #diff-totals { height: auto; max-height: 16; padding: 0 1; color: $text-muted; }
    DiffScreen Horizontal { height: 1fr; }
    DiffScreen DiffTree { width: 2fr; }
    DiffScreen #diff-details { width: 1fr; padding: 0 1; border-left: solid $primary; }
    """
    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, diff: ReportDiff) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        head = f"A {self.diff.before_target} -> B {self.diff.after_target}"
        totals = head + "\n" + table_text(totals_table(self.diff))
        yield Static(totals, id="diff-totals", markup=False)
        with Horizontal():
            yield DiffTree(self.diff, id="diff-tree")
            yield Static("Select a block.", id="diff-details", markup=False)
        yield Footer()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[BlockDiff]) -> None:
        block = event.node.data
        if block is not None:
            self.query_one("#diff-details", Static).update(block_details(block))
