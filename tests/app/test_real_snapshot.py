"""The app over Snapshots the engine takes from real sample models (torch runs here)."""

from __future__ import annotations

import pytest
from conftest import build_app, wait_for

from netscope.app.tree_index import NodeKey
from netscope.app.widgets.block_tree import BlockTree
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm


@pytest.fixture(scope="module")
def tied_stream() -> list[wm.WorkerMessage]:
    snapshot = api.take_snapshot(LoadOptions("sample_models/tied_embedding.py"))
    return [wm.Progress("building"), wm.SnapshotReady(snapshot), wm.Finished(None)]


async def test_real_tied_model_walks_and_jumps_between_ties(tied_stream):
    app, _ = build_app(tied_stream, autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        assert "TinyLM" in str(tree.root.label)
        await pilot.press("slash", *"tied", "enter")
        names = [k.name for k in app.main.matches]
        assert "embed_tokens.weight" in names
        assert tree.selected_key.name == names[0]
        await pilot.press("t")
        assert tree.selected_key.name == "lm_head.weight"


async def test_real_lazy_model_marks_lazy_parameters():
    snapshot = api.take_snapshot(LoadOptions("sample_models/lazy_mlp.py"))
    app, _ = build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.main.apply_filter("lazy")
        assert app.main.matches and all(k.kind == "parameter" for k in app.main.matches)
        key = app.main.query_one(BlockTree).selected_key
        assert key == app.main.matches[0] and isinstance(key, NodeKey)
        assert "lazy" in str(app.main.query_one(BlockTree).cursor_node.label)
