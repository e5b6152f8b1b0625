"""The diff in the app (``netscope diff A B --app``) with Textual's Pilot: the tree with each
block's deltas, the details of the selected block, ``c`` for the changed blocks only."""

from __future__ import annotations

from pathlib import Path

from netscope.app.diff_app import DiffApp
from netscope.app.widgets.diff_tree import DiffTree
from netscope.engine.diff.compare import diff_reports
from tests.diff.models import cnn_file, report_of


async def test_the_tree_shows_deltas_and_the_selected_block(tmp_path: Path):
    before = report_of(cnn_file(tmp_path, "a.py"))
    after = report_of(cnn_file(tmp_path, "b.py", moved=True))
    app = DiffApp(diff_reports(before, after))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(DiffTree)
        rows = {n.data.path: str(n.label) for n in tree._tree_nodes.values() if n.data}
        assert "moved from conv2" in rows["trunk.0"]
        assert "added" in rows["trunk"] and "params new 584" in rows["trunk"]
        assert "same" in rows["head"]
        totals = str(app.screen.query_one("#diff-totals").render())
        assert "params" in totals and "a.py" in totals
        while tree.cursor_node is None or tree.cursor_node.data.path != "trunk.0":
            await pilot.press("down")
        details = str(app.screen.query_one("#diff-details").render())
        assert details.startswith("trunk.0 (was conv2)  Conv2d  [moved]")
        assert "params: 584 -> 584  =" in details
        await pilot.press("c")
        shown = {b.path for b in tree.shown()}
        assert shown == {"", "trunk", "trunk.0"}  # the changed blocks and their parents
        await pilot.press("c")
        assert len(tree.shown()) == len(app.diff.blocks)
        await pilot.press("q")
    assert app.return_code == 0
