"""The block tree: rows are created when their parent is first expanded (fast on huge models)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text, TextType
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from netscope.app.labels import block_label, tensor_label, unregistered_label
from netscope.app.markers import block_row_markers, tensor_markers
from netscope.app.tree_index import NodeKey, TreeIndex


class BlockTree(Tree[NodeKey]):
    DEFAULT_CSS = """
    BlockTree { padding: 0 1; }
    """
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("l,right", "expand_or_enter", "Expand", show=False),
        Binding("h,left", "collapse_or_leave", "Collapse", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        self._widths: dict[int, int] = {}  # node id -> label cells, so a rebuild measures nothing
        self._adding = False  # inside fill(): one invalidation at the end, not one per row
        super().__init__("loading…", **kwargs)
        self.index: TreeIndex | None = None
        self.guide_depth = 2
        self._rows: dict[NodeKey, TreeNode[NodeKey]] = {}
        self._filled: set[NodeKey] = set()
        self._visible: set[NodeKey] | None = None  # None: no filter
        self._matched_blocks: set[str] = set()

    # --- speed on 10,000 rows: Tree's defaults copy and measure every label on each expand ---

    def process_label(self, label: TextType) -> Text:
        """Our labels are single-line Text already: no copy, no split."""
        return label if isinstance(label, Text) else super().process_label(label)

    def get_label_width(self, node: TreeNode[NodeKey]) -> int:
        width = self._widths.get(node.id)
        if width is None:
            width = node._label.cell_len
            self._widths[node.id] = width
        return width + (cell_len(self.ICON_NODE) if node.allow_expand else 0)

    def _invalidate(self) -> None:
        if not self._adding:
            super()._invalidate()

    def show(self, index: TreeIndex, matches: list[NodeKey] | None = None) -> None:
        """Rebuild from a snapshot, showing only ``matches`` and their ancestors when given."""
        self.index = index
        self._rows.clear()
        self._filled.clear()
        self._widths.clear()
        self._visible = None
        self._matched_blocks = set()
        if matches is not None:
            self._visible = set(matches)
            for match in matches:
                self._visible.update(NodeKey("block", p, "") for p in index.ancestors(match))
            self._matched_blocks = {m.name for m in matches if m.kind == "block"}
        root_block = index.snapshot.blocks[0] if index.snapshot.blocks else None
        root_key = NodeKey("block", root_block.path if root_block else "", "")
        label = (
            block_label(root_block, index.snapshot, self._row_markers(root_key))
            if root_block
            else index.snapshot.model_class
        )
        self.reset(label, root_key)
        self._rows[root_key] = self.root
        self.fill(self.root)
        self.root.expand()
        self.cursor_line = 0

    def _row_markers(self, key: NodeKey) -> tuple[str, ...]:
        assert self.index is not None
        block = self.index.block(key.name)
        return block_row_markers(block, self.index.tensors.get(key.name, ())) if block else ()

    def _shown(self, parent: NodeKey, key: NodeKey) -> bool:
        if self._visible is None or parent.name in self._matched_blocks:
            return True
        if key.kind == "block":
            return NodeKey("block", key.name, "") in self._visible
        return key in self._visible

    def fill(self, node: TreeNode[NodeKey]) -> None:
        """Add the node's children once (idempotent)."""
        key = node.data
        if self.index is None or key is None or key.kind != "block" or key in self._filled:
            return
        self._filled.add(key)
        self._adding = True
        try:
            self._add_children(node, key)
        finally:
            self._adding = False
            self._invalidate()

    def _add_children(self, node: TreeNode[NodeKey], key: NodeKey) -> None:
        assert self.index is not None
        snapshot = self.index.snapshot
        for child in self.index.child_keys(key.name):
            if not self._shown(key, child):
                continue
            if child.kind == "block":
                block = self.index.block(child.name)
                assert block is not None
                label = block_label(block, snapshot, self._row_markers(child))
                new = node.add(label, child, allow_expand=self.index.has_children(child.name))
            elif child.kind == "unregistered":
                tensor = next(
                    t for t in self.index.unregistered[key.name] if child.name.endswith(t.attribute)
                )
                new = node.add_leaf(unregistered_label(tensor), child)
            else:
                info = snapshot.tensor_by_name[child.name]
                new = node.add_leaf(tensor_label(info, tensor_markers(info)), child)
            self._rows[NodeKey(child.kind, child.name, "") if child.kind == "block" else child] = (
                new
            )

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeKey]) -> None:
        self.fill(event.node)

    def node_for(self, key: NodeKey) -> TreeNode[NodeKey] | None:
        if key.kind == "block":
            key = NodeKey("block", key.name, "")
        return self._rows.get(key)

    def reveal(self, key: NodeKey) -> bool:
        """Expand the path to ``key`` (creating rows as needed) and put the cursor on it."""
        if self.index is None:
            return False
        for path in self.index.ancestors(key):
            node = self.node_for(NodeKey("block", path, ""))
            if node is None:
                return False
            if key.kind == "block" and path == key.name:
                break
            self.fill(node)
            node.expand()
        node = self.node_for(key)
        if node is None:
            return False
        self._tree_lines  # noqa: B018 - rebuild line numbers after the expansions above
        self.move_cursor(node)
        return True

    @property
    def selected_key(self) -> NodeKey | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def action_expand_or_enter(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            self.fill(node)
            node.expand()

    def action_collapse_or_leave(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)
