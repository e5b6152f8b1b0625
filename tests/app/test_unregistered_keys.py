"""Unregistered tensors are rows keyed by (block, attribute): ``causal_mask`` is not ``mask``.

A real model holds two plain-tensor attributes on one block whose names share a suffix; the
tree and the details pane must each show the selected tensor's own shape (a suffix lookup
showed ``mask``'s shape for ``causal_mask``).
"""

from __future__ import annotations

import pytest
from conftest import build_app, wait_for

from netscope.app.tree_index import NodeKey, RowKind, TreeIndex
from netscope.app.widgets.block_tree import BlockTree
from netscope.app.widgets.details_panel import DetailsPanel
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions
from netscope.engine.profiler import messages as wm

MODEL = """
import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.mask = torch.ones(3, 5)  # plain attributes: neither parameter nor buffer
        self.causal_mask = torch.tril(torch.ones(7, 11))

    def forward(self, x):
        return self.proj(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention()

    def forward(self, x):
        return self.attn(x)


def build_model():
    return Net()


def example_input():
    return torch.rand(2, 8)
"""


@pytest.fixture(scope="module")
def masks_snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("masks") / "masks.py"
    path.write_text(MODEL)
    return api.take_snapshot(LoadOptions(str(path)))


def test_index_keys_unregistered_rows_by_block_and_attribute(masks_snapshot):
    index = TreeIndex(masks_snapshot)
    rows = [k for k in index.child_keys("attn") if k.kind == RowKind.UNREGISTERED]
    assert [(k.name, k.block, k.attribute) for k in rows] == [
        ("attn.mask", "attn", "mask"),
        ("attn.causal_mask", "attn", "causal_mask"),
    ]
    assert [index.unregistered_tensor(k).shape for k in rows] == [(3, 5), (7, 11)]
    # a key for a name the block does not hold finds nothing, however its name ends
    assert (
        index.unregistered_tensor(NodeKey("unregistered", "attn.x_mask", "attn", "x_mask")) is None
    )


async def test_selecting_causal_mask_shows_its_own_shape(masks_snapshot):
    app, _ = build_app([wm.SnapshotReady(masks_snapshot), wm.Finished(None)], autostart=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        tree = app.main.query_one(BlockTree)
        details = app.main.query_one(DetailsPanel)
        assert app.main.jump(NodeKey("block", "attn", ""))
        await pilot.press("l")  # expand attn: its rows are created now
        rows = {n.data.name: n for n in tree.cursor_node.children}
        shown = {}
        for attribute in ("mask", "causal_mask"):
            tree.move_cursor(rows[f"attn.{attribute}"])
            await pilot.pause()
            assert tree.selected_key.kind == "unregistered"
            assert tree.selected_key.name == f"attn.{attribute}"
            shown[attribute] = (str(tree.cursor_node.label), details.plain_text)
        mask_label, mask_details = shown["mask"]
        causal_label, causal_details = shown["causal_mask"]
        assert "[3×5]" in mask_label and "[7×11]" not in mask_label
        assert "[7×11]" in causal_label and "[3×5]" not in causal_label
        assert "attn.mask" in mask_details and "[3×5]" in mask_details
        assert "attn.causal_mask" in causal_details and "[7×11]" in causal_details
        assert "[3×5]" not in causal_details
