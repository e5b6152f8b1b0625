"""What a key costs on screen: which frames show it and which rows are drawn again for it."""

from __future__ import annotations

import dataclasses

from conftest import measured, toy_snapshot, wait_for

from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_body import DetailsBody
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import model as m


async def test_a_new_selection_reaches_the_details_in_the_trees_frame(toy_app):
    """The frame that shows the moved cursor shows the details of the new row too (the body's
    repaint no longer comes a frame later)."""
    app, _ = toy_app
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        await pilot.pause(0.1)
        tree = app.main.query_one(BlockTree)
        details = app.main.query_one(DetailsPanel)
        body = details.query_one(DetailsBody)
        for key in ("j", "j", "l", "j", "k"):
            line = tree.cursor_line
            painted: list[object] = []
            frames: list[tuple[int, bool]] = []  # (cursor line, details of it painted)
            render_line = body.render_line

            def noted(y: int, render_line=render_line, painted=painted):
                painted.append(body._lines)
                return render_line(y)

            display = app._display

            def timed(screen, update, display=display, painted=painted, frames=frames):
                display(screen, update)
                if update is not None:
                    shown = bool(painted) and painted[-1] is body._lines
                    frames.append((tree.cursor_line, shown and details.key == tree.selected_key))

            body.render_line = noted  # type: ignore[method-assign]
            app._display = timed  # type: ignore[method-assign]
            try:
                await pilot.press(key)
                await pilot.pause(0.1)
            finally:
                del body.render_line
                del app._display
            if tree.cursor_line == line:
                continue  # l expanded in place: the selection did not change
            first = next(f for f in frames if f[0] == tree.cursor_line)
            assert first[1], f"{key}: the details of the new row came in a later frame"


def _row_texts(tree: BlockTree) -> list[str]:
    """The tree's visible rows as drawn now (through the row cache)."""
    return [tree.render_line(y).text for y in range(tree.size.height)]


def _row_lines(tree: BlockTree) -> list[int | None]:
    """The line number each visible row's cells carry (Tree's mouse handlers read it)."""
    lines = []
    for y in range(tree.size.height):
        metas = [s.style.meta.get("line") for s in tree.render_line(y) if s.style and s.style.meta]
        lines.append(metas[0] if metas else None)
    return lines


async def _ready(app, pilot) -> BlockTree:
    await wait_for(pilot, lambda: measured(app))
    await pilot.pause(0.1)
    return app.main.query_one(BlockTree)


async def test_moving_the_cursor_draws_only_the_two_rows_it_changes(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await _ready(app, pilot)
        await pilot.press("j")  # off the root: its cursor styles every row's guides
        await pilot.pause(0.1)
        drawn = tree.rows_drawn
        await pilot.press("j")
        await pilot.pause(0.1)
        assert tree.rows_drawn - drawn == 2  # the row the cursor left and the one it reached


async def test_expanding_draws_the_row_and_its_children_and_moves_the_rest(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await _ready(app, pilot)
        await pilot.press("j", "j")  # body, collapsed
        await pilot.pause(0.1)
        before = _row_texts(tree)
        drawn = tree.rows_drawn
        await pilot.press("l")
        await pilot.pause(0.1)
        assert tree.cursor_node.is_expanded
        assert tree.rows_drawn - drawn == 3  # body's row (its icon) and its two children
        after = _row_texts(tree)
        body = tree.cursor_line
        assert after[body + 3 :] == before[body + 1 : len(after) - 2]  # moved down, unchanged
        assert _row_lines(tree)[: len(tree._tree_lines)] == list(range(len(tree._tree_lines)))
        # the mouse reads the moved rows' new line numbers: a click on "head" selects it
        head = next(y for y, text in enumerate(after) if " head " in f" {text.strip()} ")
        await pilot.click(BlockTree, offset=(6, head))
        await pilot.pause(0.1)
        assert tree.selected_key.name == "head"


async def test_a_relabelled_row_is_drawn_again(toy_app):
    """No stale row: the full snapshot's facts replace a row's label in place, and the row on
    screen shows the new label, also when it is as wide as the old one."""
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await _ready(app, pilot)
        row = tree.node_for(NodeKey("block", "shared", "")).line
        assert "→[2×8]" in _row_texts(tree)[row]
        snapshot = toy_snapshot()
        blocks = tuple(
            dataclasses.replace(b, outputs=(m.OutputInfo("", (3, 8), "float32"),))
            if b.path == "shared"
            else b
            for b in snapshot.blocks
        )
        width = tree.virtual_size.width
        tree.update_index(TreeIndex(dataclasses.replace(snapshot, blocks=blocks)))
        await pilot.pause(0.1)
        assert tree.virtual_size.width == width  # same widths: only the label tells them apart
        assert "→[3×8]" in _row_texts(tree)[row]


async def test_a_details_frame_looks_up_its_style_once(toy_app, monkeypatch):
    """The details body asks for its style once a frame, not once a row (each lookup walks the
    DOM; half of the body's repaint on a key)."""
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot)
        body = app.main.query_one(DetailsBody)
        lookups: list[int] = []
        painted: list[int] = []
        style_of = DetailsBody.rich_style
        monkeypatch.setattr(
            DetailsBody,
            "rich_style",
            property(lambda widget: lookups.append(1) or style_of.fget(widget)),  # type: ignore[attr-defined]
        )
        render_line = body.render_line
        body.render_line = lambda y: painted.append(y) or render_line(y)  # type: ignore[method-assign]
        body.refresh()  # every row again
        await pilot.pause(0.2)
        assert len(painted) >= 10
        assert 1 <= len(lookups) <= 3  # a frame or two, never a row each
