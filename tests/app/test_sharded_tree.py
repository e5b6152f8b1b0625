"""The app over real snapshots of sharded models (FSDP2 and tensor parallel, built in a fake
two-rank world): shards shown as `local of global`, FSDP units and TP blocks marked, a DTensor's
placements, mesh and shapes in its details."""

from __future__ import annotations

from conftest import build_app, wait_for

from netscope.app.tree_index import NodeKey
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine.profiler import messages as wm
from tests.engine.sharded import fake_world as sharded


def _app(snapshot):
    return build_app([wm.SnapshotReady(snapshot), wm.Finished(None)], autostart=False)[0]


async def test_fsdp2_tree_marks_units_and_shows_each_shard_of_its_global_shape():
    app = _app(sharded.snapshot_of(sharded.fsdp_model()))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        assert "fsdp" in str(tree.root.label).split()
        labels = {n.data.name: str(n.label) for n in tree.root.children}
        assert "fsdp" in labels["0"].split() and "fsdp" not in labels["2"].split()
        assert app.main.jump(NodeKey("parameter", "0.up.weight", "0.up"))
        await pilot.pause()
        assert "◦ weight sharded [16×16] of [32×16] float32" in str(tree.cursor_node.label)
        text = app.main.query_one(DetailsPanel).plain_text
        assert "[32×16] (global)" in text
        assert "local shard" in text and "[16×16] on this rank" in text
        assert "Shard(dim=0)" in text and "(2,) cpu" in text
        assert app.main.jump(NodeKey("block", "0", ""))
        await pilot.pause()
        text = app.main.query_one(DetailsPanel).plain_text
        assert "fully_shard: reshard_after_forward=True, param_dtype=bfloat16" in text


async def test_tensor_parallel_blocks_show_their_style_and_placements():
    app = _app(sharded.snapshot_of(sharded.tp_model()))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        assert app.main.jump(NodeKey("block", "up", ""))
        await pilot.pause()
        assert "tp" in str(app.main.query_one(BlockTree).cursor_node.label).split()
        assert "ColwiseParallel" in app.main.query_one(DetailsPanel).plain_text
        assert app.main.jump(NodeKey("parameter", "down.bias", "down"))
        await pilot.pause()
        text = app.main.query_one(DetailsPanel).plain_text
        assert "Replicate()" in text and "tp=2" in text
        assert "sharded" not in str(app.main.query_one(BlockTree).cursor_node.label)
