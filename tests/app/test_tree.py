"""The block tree: loading line, lazy rows, markers, keyboard walking, details and tie jumps."""

from __future__ import annotations

from conftest import build_app, measured, toy_snapshot, wait_for

from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import model as m
from netscope.engine.profiler import messages as wm


def _tree(app) -> BlockTree:
    return app.main.query_one(BlockTree)


def _details_text(app) -> str:
    return app.main.query_one(DetailsPanel).plain_text


async def test_first_screen_shows_progress_before_the_snapshot():
    app, _ = build_app([wm.Progress("importing torch"), wm.Progress("building", "MLP")])
    async with app.run_test() as pilot:
        progress = app.main.query_one("ProgressLine")
        await wait_for(pilot, lambda: progress.stage == "building MLP")
        assert str(_tree(app).root.label) == "loading…"
        assert app.snapshot is None


async def test_tree_fills_with_rows_and_markers(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        labels = {n.data.name: str(n.label) for n in _tree(app).root.children}
        assert labels["embed"].startswith("embed Embedding 80 tied →[2×8]")  # markers first
        assert "tied" in labels["head"]
        assert {"shared", "nan", "unused"} <= set(labels["shared"].split())
        assert "unregistered" in labels["rand_weight"]
        assert "custom" in str(_tree(app).root.label)


async def test_children_are_created_on_first_expand(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = _tree(app)
        assert tree.node_for(NodeKey("block", "body.0", "")) is None
        await pilot.press("j", "j", "l")  # cursor to body, expand it
        assert tree.selected_key.name == "body"
        assert tree.node_for(NodeKey("block", "body.0", "")) is not None
        await pilot.press("l", "l", "j")  # into body.0, expand, down to its first leaf
        assert tree.selected_key == NodeKey("parameter", "body.0.weight", "body.0")
        assert "lazy" in str(tree.cursor_node.label)
        leaves = [str(n.label) for n in tree.cursor_node.parent.children]
        assert any("mask" in label and "buffer" in label for label in leaves)


async def test_arrows_hjkl_enter_space(toy_app):
    app, _ = toy_app
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = _tree(app)
        await pilot.press("down", "down")
        body = tree.cursor_node
        assert body.data.name == "body" and not body.is_expanded
        await pilot.press("enter")
        assert body.is_expanded
        await pilot.press("space")
        assert not body.is_expanded
        await pilot.press("right")
        assert body.is_expanded
        await pilot.press("h")
        assert not body.is_expanded
        await pilot.press("h")  # on a collapsed row: go to the parent
        assert tree.selected_key.name == ""
        await pilot.press("j", "k", "up")
        assert tree.selected_key.name == ""


async def test_parameter_details_and_tie_jump(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        assert app.main.jump(NodeKey("parameter", "embed.weight", "embed"))
        await pilot.pause()
        text = _details_text(app)
        for fact in ("[10×8]", "float32", "requires_grad", "True", "saved", "▁", "norm 0.5"):
            assert fact in text
        assert "tie group 0" in text  # the JSON's tie_group, as the reports name it
        await pilot.press("t")
        assert _tree(app).selected_key.name == "head.weight"
        await pilot.press("t")
        assert _tree(app).selected_key.name == "embed.weight"
        details = app.main.query_one(DetailsPanel)
        assert details.tie_members() == ("embed.weight", "head.weight")
        details.post_message(DetailsPanel.JumpTo("head.weight"))  # what Enter on a member sends
        await pilot.pause()
        assert _tree(app).selected_key.name == "head.weight"


async def test_block_details_show_timings_copies_syncs(toy_app):
    app, _ = toy_app
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: measured(app))
        app.main.jump(NodeKey("block", "shared", ""))
        await pilot.pause()
        text = _details_text(app)
        assert "calls" in text and "2" in text
        assert "time cpu" in text and "600.0 µs" in text
        assert ".item() 1× Tensor.item() reads at toy.py:31" in text


def test_index_counts_rows_of_a_10000_block_model():
    blocks = [m.BlockInfo("", "", "Big", "x", True, None, 0, None, (), 0, 0, (), (), 1)]
    blocks += [
        m.BlockInfo(str(i), str(i), "Linear", "torch", False, None, 1, "", (), 0, 0, (), (), 1)
        for i in range(10_000)
    ]
    snapshot = toy_snapshot()
    import dataclasses

    big = dataclasses.replace(snapshot, blocks=tuple(blocks), parameters=(), buffers=(), ties=())
    index = TreeIndex(big)
    assert len(index.child_keys("")) == 10_000 + 1  # blocks plus the root's unregistered tensor
    assert [k.name for k in index.matches("9999")] == ["9999"]
