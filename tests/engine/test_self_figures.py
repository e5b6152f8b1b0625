"""A block's own ("self") FLOPs and saved bytes, computed once by the engine on real models and
read by the reports, the app's top blocks and ``netscope check`` alike."""

from __future__ import annotations

from pathlib import Path

from core_helpers import snap, write_model

from netscope.app.tree_index import TreeIndex
from netscope.engine.self_figures import own_figures, self_saved_bytes, top_blocks
from netscope.report.check_text import contributors
from netscope.report.compute_tables import compute_tables

REUSE = """
    import torch
    from torch import nn

    class Reuse(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(8, 8)
            self.b = self.a  # one module under two paths of the same parent, called twice
            self.act = nn.ReLU()
            self.w = nn.Parameter(torch.randn(8, 4))

        def forward(self, x):
            return self.act(self.b(self.a(x))) @ self.w  # the root's own op: 2 * 2 * 8 * 4

    def build_model():
        return Reuse()

    def example_input():
        return torch.randn(2, 8)
"""


def test_a_reused_child_is_subtracted_once_and_ranked_once(tmp_path: Path) -> None:
    snapshot = snap(write_model(tmp_path, "reuse.py", REUSE))
    root, a = snapshot.blocks[0], snapshot.block_by_path["a"]
    assert a.forward_flops == a.self_forward_flops == 2 * (2 * 2 * 8 * 8)  # two calls
    assert root.forward_flops == 2 * (2 * 2 * 8 * 8) + 2 * 2 * 8 * 4
    assert root.self_forward_flops == 2 * 2 * 8 * 4  # "a" subtracted once, though also "b"
    assert root.self_backward_flops is not None and root.self_saved_bytes is not None
    ranked = [block.path for block, _ in top_blocks(snapshot, lambda b: b.self_forward_flops)]
    assert ranked == ["a", ""]  # "b" is "a": listed once
    app_rows = TreeIndex(snapshot).top_blocks("flops")
    assert [row.path for row in app_rows] == ["a", ""]  # the app ranks by the same figures
    assert sum(row.share or 0 for row in app_rows) <= 1.0 + 1e-9  # no FLOP counted twice
    text = "\n".join(str(table.rows) for table in compute_tables(snapshot))
    assert "'b'" not in text and "`b`" not in text


def test_check_names_the_blocks_saving_most_by_their_own_bytes(tmp_path: Path) -> None:
    snapshot = snap(write_model(tmp_path, "reuse.py", REUSE), train=True)
    saving = top_blocks(snapshot, self_saved_bytes, 3)
    named = contributors(snapshot).split("blocks saving most: ")[1]
    assert named.split(" (")[0] == (saving[0][0].path or "(root)")


def test_own_figures_subtract_each_child_module_once() -> None:
    children = {"": ("a", "b", "c"), "a": (), "b": (), "c": ()}
    aliases = {"a": ("a", "b"), "b": ("a", "b")}
    own = own_figures({"": 100, "a": 30, "b": 30, "c": None}, children, aliases)
    assert own == {"": None, "a": 30, "b": 30, "c": None}  # c not counted: the root not known
    children = {"": ("a", "b"), "a": (), "b": ()}
    assert own_figures({"": 100, "a": 30, "b": 30}, children, aliases) == {"": 70, "a": 30, "b": 30}


def test_a_child_registered_under_another_parent_leaves_the_own_figure_unknown() -> None:
    children = {"": ("x", "y"), "x": ("x.m",), "x.m": (), "y": ("y.m",), "y.m": ()}
    aliases = {"x.m": ("x.m", "y.m"), "y.m": ("x.m", "y.m")}
    inclusive = {"": 100, "x": 60, "x.m": 50, "y": 40, "y.m": 50}
    own = own_figures(inclusive, children, aliases)
    assert own is not None and own["x"] is None and own["x.m"] == 50 and own["y"] is None


def test_without_reused_modules_one_subtraction_per_block() -> None:
    children = {"": ("a", "b"), "a": ("a.x",), "a.x": (), "b": ()}
    own = own_figures({"": 100, "a": 30, "a.x": 40, "b": 20}, children, {})
    assert own == {"": 50, "a": None, "a.x": 40, "b": 20}  # a child above its parent: unknown
    assert own_figures({"": 100, "a": None, "a.x": 1, "b": 2}, children, {})[""] is None
