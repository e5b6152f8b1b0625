"""A block's own ("self") FLOPs and saved bytes in the JSON report (schema 1's modules), as the
engine computed them once: on a real model with a block reused under two paths and a tied
embedding / head pair."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions
from netscope.report.json_report import render_json

TIED_REUSE = """
    import torch
    from torch import nn

    class TiedReuse(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(16, 8)
            self.block = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
            self.again = self.block  # one module under two paths, called twice
            self.head = nn.Linear(8, 16, bias=False)
            self.head.weight = self.embed.weight  # tied

        def forward(self, ids):
            x = self.again(self.block(self.embed(ids)))
            return self.head(x) + x @ self.embed.weight.T  # the root's own matmul

    def build_model():
        return TiedReuse()

    def example_input():
        return torch.randint(0, 16, (2, 5))
"""
TOKENS = 2 * 5
LINEAR = 2 * TOKENS * 8 * 8  # one call of block.0
HEAD = 2 * TOKENS * 8 * 16  # head, and the root's own matmul of the same shape
FIGURES = ("forward_flops", "backward_flops", "saved_bytes")


def report_of(folder: Path, **options: Any) -> dict[str, Any]:
    target = folder / "tied_reuse.py"
    target.write_text(textwrap.dedent(TIED_REUSE))
    return json.loads(render_json(take_snapshot(LoadOptions(str(target), **options))))


def test_self_figures_are_in_the_json_and_add_up_to_the_root(tmp_path: Path) -> None:
    report = report_of(tmp_path, train=True)
    modules = {m["path"]: m for m in report["model"]["modules"]}
    root, block, again, head = modules[""], modules["block"], modules["again"], modules["head"]
    assert root["forward_flops"] == 2 * LINEAR + 2 * HEAD
    assert root["self_forward_flops"] == HEAD  # "block" subtracted once, though also "again"
    assert block["forward_flops"] == again["forward_flops"] == 2 * LINEAR
    assert block["self_forward_flops"] == again["self_forward_flops"] == 0  # all in block.0
    assert modules["block.0"]["self_forward_flops"] == 2 * LINEAR  # a leaf's own is its figure
    assert head["self_forward_flops"] == HEAD
    # backward: input and weight gradients of each matmul; the tie changes no FLOP
    assert root["self_backward_flops"] == 2 * HEAD
    assert head["self_backward_flops"] == 2 * HEAD
    assert modules["block.0"]["self_backward_flops"] == 2 * 2 * LINEAR
    once, seen = [], set()  # each module object at its first path
    for module in report["model"]["modules"]:
        if module["path"] not in seen:
            once.append(module)
            seen.update(module["aliases"])
    assert [m["path"] for m in once] == ["", "embed", "block", "block.0", "block.1", "head"]
    for figure in FIGURES:
        own = f"self_{figure}"
        assert all(m[own] is not None for m in modules.values()), figure
        assert sum(m[own] for m in once) == root[figure], figure  # nothing twice, nothing lost
        leaves = [m for m in modules.values() if not m["children"]]
        assert all(m[own] == m[figure] for m in leaves), figure
    # head and the root's matmul save x, which the Tanh that made it saved first (each storage
    # once): nothing of their own; the Tanh saves its output at each of its two calls
    assert root["self_saved_bytes"] == head["self_saved_bytes"] == 0
    assert modules["block.1"]["self_saved_bytes"] == 2 * TOKENS * 8 * 4


def test_without_a_backward_the_self_backward_is_null(tmp_path: Path) -> None:
    report = report_of(tmp_path, backward=False)
    modules = {m["path"]: m for m in report["model"]["modules"]}
    assert modules[""]["self_forward_flops"] == HEAD
    assert modules["block.0"]["self_forward_flops"] == 2 * LINEAR
    for module in report["model"]["modules"]:  # not counted is null, never 0
        assert module["self_backward_flops"] is None and module["self_saved_bytes"] is None
