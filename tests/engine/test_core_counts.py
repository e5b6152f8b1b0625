"""Tie-aware parameter counts: the linear pass equals counting distinct units per subtree."""

from __future__ import annotations

from pathlib import Path

from netscope.engine.snapshot.tensors import unit_of
from tests.engine.core_helpers import snap as take
from tests.engine.core_helpers import write_model

MODEL = """
from torch import nn

class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 3), nn.ReLU()))
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # tied across two subtrees
        self.again = self.body[0]  # one module under two paths

def build_model():
    return Tied()
"""


def test_counts_equal_distinct_units_per_subtree(tmp_path: Path) -> None:
    snap = take(write_model(tmp_path, "tied.py", MODEL))
    size = {unit_of(p): p.numel for p in snap.parameters}
    for block in snap.blocks:
        inside = {
            unit_of(p)
            for p in snap.parameters
            if not block.path or p.block == block.path or p.block.startswith(block.path + ".")
        }
        own = {unit_of(p) for p in snap.parameters if p.block == block.path}
        assert block.total_params == sum(size[u] for u in inside), block.path
        assert block.params == sum(size[u] for u in own), block.path
    assert snap.total_params == 10 * 4 + (16 + 4) + (12 + 3)
    assert [t.names for t in snap.ties] == [
        ("embed.weight", "head.weight"),
        ("body.0.weight", "again.weight"),
        ("body.0.bias", "again.bias"),
    ]
