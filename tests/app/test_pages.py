"""Wide child lists come in pages behind a "… N more" row; jumps and filters reach every row."""

from __future__ import annotations

import dataclasses

from conftest import build_app, toy_snapshot, wait_for

from netscope.app.tree_index import NodeKey
from netscope.app.widgets.block_tree import CHUNK, MORE, BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import model as m
from netscope.engine.profiler import messages as wm

WIDE = 450


def wide_snapshot() -> m.Snapshot:
    """The toy snapshot with WIDE Linear blocks under the root (and its unregistered tensor)."""
    root = m.BlockInfo("", "", "Wide", "x", True, None, 0, None, (), 0, 0, (), (), 1)
    blocks = [root] + [
        m.BlockInfo(str(i), str(i), "Linear", "torch", False, None, 1, "", (), 0, 0, (), (), 1)
        for i in range(WIDE)
    ]
    return dataclasses.replace(
        toy_snapshot(), blocks=tuple(blocks), parameters=(), buffers=(), ties=()
    )


def _app():
    return build_app([wm.SnapshotReady(wide_snapshot()), wm.Finished(None)], autostart=False)[0]


async def test_a_wide_list_shows_a_page_and_enter_loads_the_next():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        rows = tree.root.children
        assert len(rows) == CHUNK + 1 and rows[-1].data.kind == MORE
        assert f"{WIDE + 1 - CHUNK} more rows" in str(rows[-1].label)
        tree.move_cursor(rows[-1])
        await pilot.pause()
        assert "press Enter" in app.main.query_one(DetailsPanel).plain_text
        await pilot.press("enter")
        rows = tree.root.children
        assert len(rows) == 2 * CHUNK + 1 and rows[CHUNK].data.name == str(CHUNK)
        assert tree.selected_key.name == str(CHUNK)  # the cursor lands on the first new row
        tree.move_cursor(rows[-1])
        await pilot.press("l")  # l loads a page too; the last one has no "more" row
        assert len(tree.root.children) == WIDE + 1
        assert all(n.data.kind != MORE for n in tree.root.children)


async def test_jumps_and_matches_reach_rows_beyond_the_first_page():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        assert tree.node_for(NodeKey("block", "449", "")) is None
        assert app.main.jump(NodeKey("block", "449", ""))
        assert tree.selected_key.name == "449"
        app.main.apply_filter("44")  # 44, 144, 244, 344, 440..449
        await pilot.pause()
        assert len(app.main.matches) == 14 and tree.selected_key.name == "44"
        await pilot.press("N")
        assert tree.selected_key.name == "449"
