"""The block tree: rows are created when their parent is first expanded, and very wide child
lists come in pages of CHUNK rows behind a selectable "… N more blocks" row, so expanding or
moving never rebuilds more than a few hundred lines (fast on a 10,000-block model).

It leans on Tree internals to do so; ``netscope/app/textual_internals.py`` lists them and why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import cast

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text, TextType
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from netscope.app.labels import block_label, tensor_label, unregistered_label
from netscope.app.markers import block_row_markers, tensor_markers
from netscope.app.tree_index import NodeKey, RowKind, TreeIndex
from netscope.app.widgets.frame_style import FrameStyle

CHUNK = 200  # rows added per page of a wide child list
# drawn rows kept: a few screens (each row is ~15 objects the garbage collector scans)
ROW_CACHE = 256


@lru_cache(maxsize=4096)
def _node_meta(node: int) -> Style:
    """What Tree puts in a label's cells: its node's id."""
    return Style.from_meta({"node": node})


@lru_cache(maxsize=4096)
def _line_meta(line: int) -> Style:
    """What Tree puts in all of a row's cells: its line number (its mouse handlers read it)."""
    return Style.from_meta({"line": line})


MORE = RowKind.MORE  # the "… N more" row; its name is the parent block's path


class BlockTree(FrameStyle, Tree[NodeKey]):
    DEFAULT_CSS = """
    BlockTree { padding: 0 1; }
    """
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("l,right", "expand_or_enter", "Expand", show=False),
        Binding("h,left", "collapse_or_leave", "Collapse", show=False),
    ]

    # Widget.virtual_size asks for a layout of the whole screen on every change (every expand);
    # the tree's outer size never depends on it, so only its scrollbars are updated, and a layout
    # happens only when a scrollbar appears or goes (show_*_scrollbar still ask for one); nor
    # does it repaint every row: _invalidate repaints the rows that changed
    virtual_size = Reactive(Size(0, 0), layout=False, repaint=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted and self.container_size:
            self._scroll_update(size)

    def __init__(self, **kwargs) -> None:
        self._widths: dict[int, int] = {}  # node id -> label cells, so a rebuild measures nothing
        self._adding = False  # inside fill(): one invalidation at the end, not one per row
        self._changed_from = -1  # a tree line: rows above it are unchanged by this update
        # Drawn rows by what they show, not by their line (see _render_line); rows_drawn counts
        # the rows drawn anew (tests)
        self._row_cache: LRUCache[tuple, Strip] = LRUCache(ROW_CACHE)
        self.rows_drawn = 0
        # Block rows (node ids) whose label still shows the previous column (set_column)
        self._stale: set[int] = set()
        super().__init__("loading…", **kwargs)
        self.index: TreeIndex | None = None
        self.column = "params"  # the block rows' figure (labels.COLUMNS); set_column changes it
        self.guide_depth = 2
        self._rows: dict[NodeKey, TreeNode[NodeKey]] = {}
        self._filled: set[NodeKey] = set()
        self._visible: set[NodeKey] | None = None  # None: no filter
        self._matched_blocks: set[str] = set()
        self._more: dict[str, tuple[list[NodeKey], TreeNode[NodeKey]]] = {}  # not yet shown
        # Called as the cursor moves, before NodeHighlighted travels the message queue, so the
        # details pane can change in the same frame as the cursor
        self.cursor_moved: Callable[[NodeKey | None], None] | None = None

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        if self.cursor_moved is not None and previous_line != line:
            node = self.cursor_node
            self.cursor_moved(node.data if node is not None else None)

    # --- speed on 10,000 rows: Tree's defaults copy and measure every label on each expand ---

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(
            y + scroll_y, scroll_x, scroll_x + self.size.width, self.frame_style
        )

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """Tree._render_line, with its rows kept by what they show instead of by line number.

        Tree keys its line cache by line number and clears it on every expand, so expanding a
        block or jumping to a match drew every visible row again (~0.4 ms a row, most of a
        key's frame on a 10,000-block model). Here a row is kept under its nodes (id and
        ``_updates``, which Tree bumps on a label, expand, cursor or hover change), its
        guides' shape and the widget's state, and drawn without the line number that Tree
        puts in every cell's meta (its mouse handlers read it): that is added as the row is
        shown (Strip.apply_style keeps the result), so a row that only moved down is not drawn
        again, only restyled (~1/3 of a draw). Ancestors enter the key by
        what they change in a row (guides), not by ``_updates``: Tree bumps the root's at
        every expand anywhere, which would draw every row again."""
        tree_lines = self._tree_lines
        if y >= len(tree_lines):
            return Strip.blank(self.size.width, base_style)
        line = tree_lines[y]
        path = line.path
        width = self.size.width
        is_hover = self.hover_line >= 0 and any(node._hover for node in path)
        node = path[-1]
        if self._stale and node._id in self._stale:
            self._relabelled_while_drawn(line)
        key = (
            node._id,
            node._updates,
            # what the ancestors add: guides (last child or not, hover, cursor); not their
            # _updates, which Tree bumps on the root at every expand anywhere
            tuple([(above._id, above.is_last, above._hover, above._selected) for above in path]),
            line.last,
            is_hover,
            self.hover_line == y,
            self.cursor_line == y,
            self.has_focus,
            width,
            self.virtual_size.width,
            base_style,
            self._pseudo_class_state,
            self.show_guides,
            self.guide_depth,
        )
        strip = self._row_cache.get(key)
        if strip is None:
            strip = self._row_cache[key] = self._draw_row(line, y, is_hover, base_style)
        return strip.apply_style(_line_meta(y)).crop(x1, x2)

    def _draw_row(self, line, y: int, is_hover: bool, base_style: Style) -> Strip:
        """One row as Tree._render_line (Textual 8.2) draws it, less the line number in its
        cells' meta (_render_line adds it)."""
        self.rows_drawn += 1
        width = self.size.width
        base_hidden = self.get_component_styles("tree--guides").color.a == 0
        hover_hidden = self.get_component_styles("tree--guides-hover").color.a == 0
        selected_hidden = self.get_component_styles("tree--guides-selected").color.a == 0
        base_guide_style = self.get_component_rich_style("tree--guides", partial=True)
        guide_hover_style = base_guide_style + self.get_component_rich_style(
            "tree--guides-hover", partial=True
        )
        guide_selected_style = base_guide_style + self.get_component_rich_style(
            "tree--guides-selected", partial=True
        )
        hover = line.path[0]._hover
        selected = line.path[0]._selected and self.has_focus

        def get_guides(style: Style, hidden: bool) -> tuple[str, str, str, str]:
            lines: tuple[str, str, str, str] | tuple[tuple[str, str], ...]
            if self.show_guides and not hidden:
                lines = self.LINES["default"]
                if style.bold:
                    lines = self.LINES["bold"]
                elif style.underline2:
                    lines = self.LINES["double"]
            else:
                lines = ("  ", "  ", "  ", "  ")
            guide_depth = max(0, self.guide_depth - 2)
            guide_lines = tuple(
                f"{characters[0]}{characters[1] * guide_depth} " for characters in lines
            )
            return cast("tuple[str, str, str, str]", guide_lines)

        if is_hover:
            line_style = self.get_component_rich_style("tree--highlight-line")
        else:
            line_style = base_style
        guides = Text(style=line_style)
        guides_append = guides.append
        guide_style = base_guide_style
        hidden = True
        for node in line.path[1:]:
            hidden = base_hidden
            if hover:
                guide_style = guide_hover_style
                hidden = hover_hidden
            if selected:
                guide_style = guide_selected_style
                hidden = selected_hidden
            space, vertical, _, _ = get_guides(guide_style, hidden)
            guide = space if node.is_last else vertical
            if node != line.path[-1]:
                guides_append(guide, style=guide_style)
            hover = hover or node._hover
            selected = (selected or node._selected) and self.has_focus
        if len(line.path) > 1:
            _, _, terminator, cross = get_guides(guide_style, hidden)
            guides.append(terminator if line.last else cross, style=guide_style)

        label_style = self.get_component_rich_style("tree--label", partial=True)
        if self.hover_line == y:
            label_style += self.get_component_rich_style("tree--highlight", partial=True)
        if self.cursor_line == y:
            label_style += self.get_component_rich_style("tree--cursor", partial=False)
        label = self.render_label(line.path[-1], line_style, label_style).copy()
        label.stylize(_node_meta(line.node._id))
        guides.append(label)

        segments = list(guides.render(self.app.console))
        pad = max(self.virtual_size.width, width) - guides.cell_len
        if pad:
            segments.append(Segment(" " * pad, line_style))
        return Strip(segments)

    def clear(self) -> BlockTree:
        self._row_cache.clear()  # node ids start again from 0
        self._stale.clear()
        super().clear()
        return self

    def notify_style_update(self) -> None:
        self._row_cache.clear()  # the component styles (cursor, guides) may have changed
        super().notify_style_update()

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
        """Tree._invalidate without its layout request (see virtual_size above); after an expand
        or collapse at the cursor only the rows from the cursor down are repainted: the ones
        above it did not change, and they stay in the compositor's cache."""
        if not self._adding:
            self._clear_line_cache()
            self._updates += 1
            self.root._reset()
            top = self._changed_from - self.scroll_offset.y if self._changed_from >= 0 else -1
            if 0 <= top < self.size.height:
                self.refresh(Region(0, top, self.size.width, self.size.height - top))
            else:
                self.refresh()

    @contextmanager
    def _rows_change_below_cursor(self) -> Iterator[None]:
        self._changed_from = self.cursor_line
        try:
            yield
        finally:
            self._changed_from = -1

    def show(self, index: TreeIndex, matches: list[NodeKey] | None = None) -> None:
        """Rebuild from a snapshot, showing only ``matches`` and their ancestors when given."""
        self.index = index
        self._rows.clear()
        self._filled.clear()
        self._widths.clear()
        self._more.clear()
        self._visible = None
        self._matched_blocks = set()
        if matches is not None:
            self._visible = set(matches)
            for match in matches:
                self._visible.update(NodeKey("block", p, "") for p in index.ancestors(match))
            self._matched_blocks = {m.name for m in matches if m.kind == "block"}
        root_block = index.snapshot.blocks[0] if index.snapshot.blocks else None
        root_key = NodeKey("block", root_block.path if root_block else "", "")
        label = self._label(root_key) if root_block else index.snapshot.model_class
        self.reset(label, root_key)
        self._rows[root_key] = self.root
        self.fill(self.root)
        self.root.expand()
        self.cursor_line = 0

    def update_index(self, index: TreeIndex) -> None:
        """New facts for the tree shown (the full snapshot after the structure): with the same
        rows, the rows already made are relabelled in place, so the cursor, the expanded blocks
        and the scroll stay; otherwise the tree is rebuilt and they are restored."""
        old = self.index
        if old is None or not old.same_rows(index):
            expanded = [key for key, node in self._rows.items() if node.is_expanded]
            selected = self.selected_key
            self.show(index)
            for key in expanded:
                node = self.node_for(key)
                if node is not None:
                    self.fill(node)
                    node.expand()
            if selected is not None:
                self.reveal(selected)
            return
        self.index = index
        self._relabel()

    def set_column(self, column: str) -> None:
        """Show ``column`` (labels.COLUMNS) as the block rows' figure, in place: the cursor,
        the expanded blocks and the scroll stay. The rows on screen get their new label now;
        the other block rows made so far are marked stale and relabelled as they are drawn
        (_render_line), so a toggle costs the rows shown, not the 10,000 rows of a wide
        block whose pages were all loaded. A new label bumps the node's ``_updates``, Tree's
        label version, which is part of the key drawn rows are kept under."""
        if column == self.column:
            return
        self.column = column
        if self.index is None:
            return
        top, height = self.scroll_offset.y, self.size.height
        on_screen = {line.node._id for line in self._tree_lines[top : top + height]}
        stale = self._stale
        for key, node in self._rows.items():
            if key.kind == "block":
                if node._id in on_screen:
                    self._relabel_node(node)
                else:
                    stale.add(node._id)
        self.refresh()

    def _relabel(self) -> None:
        """New labels for every row made so far (new facts), and new widths."""
        self._widths.clear()
        self._stale.clear()
        for key, node in self._rows.items():
            node._label = self._label(key)
            node._updates += 1
        self._invalidate()

    def _relabel_node(self, node: TreeNode[NodeKey]) -> None:
        """A block row's label for the current column (its ``_updates`` bumped: drawn anew)."""
        self._stale.discard(node._id)
        if node.data is None:
            return
        node._label = self._label(node.data)
        node._updates += 1
        self._widths.pop(node._id, None)

    def _relabelled_while_drawn(self, line) -> None:
        """A stale row drawn: its label follows the column; the tree's virtual width grows if
        the row grew past it (a stale row's width counts at its old label's until drawn: the
        width only bounds the horizontal scroll)."""
        self._relabel_node(line.node)
        width = self.get_label_width(line.node) + line._get_guide_width(
            self.guide_depth, self.show_root
        )
        if width > self.virtual_size.width:
            self.call_after_refresh(self._widen, width)

    def _widen(self, width: int) -> None:
        if width > self.virtual_size.width:
            self.virtual_size = Size(width, self.virtual_size.height)

    def _label(self, key: NodeKey) -> Text:
        """A row's label from the current index."""
        assert self.index is not None
        if key.kind == "block":
            block = self.index.block(key.name)
            assert block is not None
            counted = block.path not in self.index.uncounted
            return block_label(
                block,
                self.index.snapshot,
                self._row_markers(key),
                counted,
                self.column,
                self.index.complete,
            )
        if key.kind == "unregistered":
            tensor = self.index.unregistered_tensor(key)
            assert tensor is not None
            return unregistered_label(tensor)
        info = self.index.snapshot.tensor_by_name[key.name]
        return tensor_label(info, tensor_markers(info))

    def is_filtered_out(self, key: NodeKey) -> bool:
        """Whether the filter hides ``key`` (a jump there clears the filter first)."""
        if self._visible is None or self.node_for(key) is not None:
            return False
        return key not in self._visible

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
            self._add_child_rows(node, key)
        finally:
            self._adding = False
            self._invalidate()

    def _add_child_rows(self, node: TreeNode[NodeKey], key: NodeKey) -> None:
        assert self.index is not None
        shown = [c for c in self.index.child_keys(key.name) if self._shown(key, c)]
        self._add_page(node, key.name, shown)

    def _add_page(self, node: TreeNode[NodeKey], path: str, rows: list[NodeKey]) -> None:
        """Add the first CHUNK of ``rows``; the rest wait behind a "… N more" row."""
        for child in rows[:CHUNK]:
            self._add_row(node, path, child)
        rest = rows[CHUNK:]
        if rest:
            word = "blocks" if all(r.kind == "block" for r in rest) else "rows"
            label = Text(f"… {len(rest):,} more {word}", style="bold italic cyan")
            label.append(f" (Enter shows {min(CHUNK, len(rest)):,})", style="italic dim")
            more = node.add_leaf(label, NodeKey(MORE, path, path))
            self._more[path] = (rest, more)

    def _add_row(self, node: TreeNode[NodeKey], path: str, child: NodeKey) -> None:
        assert self.index is not None
        if child.kind == "block":
            allow = self.index.has_children(child.name)
            new = node.add(self._label(child), child, allow_expand=allow)
            self._rows[NodeKey("block", child.name, "")] = new
            return
        self._rows[child] = node.add_leaf(self._label(child), child)

    def load_more(self, path: str) -> bool:
        """Replace the "… N more" row under block ``path`` with the next page of rows."""
        pending = self._more.pop(path, None)
        if pending is None:
            return False
        rest, more = pending
        parent = more.parent
        assert parent is not None
        self._adding = True
        try:
            more.remove()
            self._add_page(parent, path, rest)
        finally:
            self._adding = False
            self._invalidate()
        return True

    def _load_until(self, path: str, key: NodeKey) -> None:
        """Load pages under ``path`` until ``key`` has a row (a jump to a late match)."""
        while self.node_for(key) is None and self.load_more(path):
            pass

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
        chain = self.index.ancestors(key)
        for at, path in enumerate(chain):
            node = self.node_for(NodeKey("block", path, ""))
            if node is None:
                return False
            if key.kind == "block" and path == key.name:
                break
            self.fill(node)
            node.expand()
            below = NodeKey("block", chain[at + 1], "") if at + 1 < len(chain) else key
            self._load_until(path, below)
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

    def _load_more_at_cursor(self) -> bool:
        node = self.cursor_node
        if node is None or node.data is None or node.data.kind != MORE:
            return False
        self.load_more(node.data.name)
        return True

    def action_select_cursor(self) -> None:
        if not self._load_more_at_cursor():
            super().action_select_cursor()

    def action_toggle_node(self) -> None:
        if not self._load_more_at_cursor():
            super().action_toggle_node()

    def action_expand_or_enter(self) -> None:
        if self._load_more_at_cursor():
            return
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            with self._rows_change_below_cursor():
                self.fill(node)
                node.expand()

    def action_collapse_or_leave(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            with self._rows_change_below_cursor():
                node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)
