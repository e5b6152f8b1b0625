"""The block tree of a diff: B's tree (removed blocks under their old parent) with each block's
status and deltas on its row; ``c`` there shows only the changed blocks and their parents."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from netscope.engine.diff.model import BlockDiff, ReportDiff
from netscope.report.diff_tables import delta_text

STYLE = {"added": "green", "removed": "red", "moved": "yellow", "changed": "bold", "same": "dim"}


def _name(path: str) -> str:
    return path.rsplit(".", 1)[-1] if path else "(root)"


def _parent(path: str) -> str | None:
    if not path:
        return None
    return path.rsplit(".", 1)[0] if "." in path else ""


def row_label(block: BlockDiff) -> Text:
    """``h.2  GPT2Block  added  params new 12.7k  FLOPs new 402 kFLOP``"""
    label = Text(_name(block.path), style=STYLE[block.status])
    label.append(f"  {block.type}", style="cyan")
    status = str(block.status)
    if block.status == "moved":
        status = f"moved from {block.before_path or '(root)'}"
    label.append(f"  {status}", style=STYLE[block.status])
    if block.status != "same":
        flops = delta_text(block.forward_flops, "flops")
        label.append(f"  params {delta_text(block.params, 'count')}  FLOPs {flops}")
        label.append(f"  saved {delta_text(block.saved_bytes, 'bytes')}")
    return label


class DiffTree(Tree[BlockDiff]):
    DEFAULT_CSS = "DiffTree { padding: 0 1; }"
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("c", "toggle_changed", "Changed only / all"),
    ]

    def __init__(self, diff: ReportDiff, **kwargs: object) -> None:
        super().__init__("diff", **kwargs)  # type: ignore[arg-type]
        self.diff = diff
        self.changed_only = False
        self.show_root = False

    def on_mount(self) -> None:
        self.rebuild()

    def shown(self) -> list[BlockDiff]:
        """The blocks the tree holds: all, or the changed ones with their parents."""
        blocks = list(self.diff.blocks)
        if not self.changed_only:
            return blocks
        keep = set()
        for block in self.diff.changed_blocks:
            path: str | None = block.path
            while path is not None:
                keep.add(path)
                path = _parent(path)
        return [b for b in blocks if b.path in keep]

    def rebuild(self) -> None:
        self.clear()
        blocks = sorted(self.shown(), key=lambda b: b.position)  # parents first
        nodes: dict[str, TreeNode[BlockDiff]] = {}
        for block in blocks:
            parent_path = _parent(block.path)
            parent = self.root if parent_path is None else nodes.get(parent_path, self.root)
            nodes[block.path] = parent.add(row_label(block), data=block, expand=block.depth < 2)
        for node in nodes.values():
            if not node.children:
                node.allow_expand = False
        self.root.expand()
        self.cursor_line = 0

    def action_toggle_changed(self) -> None:
        self.changed_only = not self.changed_only
        self.rebuild()
