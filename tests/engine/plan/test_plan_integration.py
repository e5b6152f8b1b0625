"""The plan through the engine's front door on models the other plan tests do not cover: a tied
embedding whose layers hold repeated Linear layers of their own, a budget with no device, and a
model the fake-tensor replay cannot run (the report keeps everything else and says why)."""

from __future__ import annotations

from pathlib import Path

from netscope.engine.api import take_snapshot
from netscope.engine.compute.gates import memory_violations
from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions
from netscope.engine.plan.units import repeated_blocks

ROOT = Path(__file__).resolve().parents[3]
TIED = str(ROOT / "sample_models" / "tied_embedding.py")

BRANCHES = """
import torch
from torch import nn


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2))

    def forward(self, x):
        out = self.body(x)
        return out if out.sum() > 0 else -out  # reads a value: no fake tensor can answer


def build_model():
    return Branchy()


def example_input():
    return torch.randn(4, 8)
"""


def test_units_are_the_outermost_repeated_blocks() -> None:
    """TinyLM's two layers are the units, not the Linear pair inside each layer's Sequential
    (wrapping a layer and then its Linear shards the same parameters twice)."""
    model = load_target(LoadOptions(TIED)).model
    assert model is not None
    assert repeated_blocks(model) == ["blocks.0", "blocks.1"]


def test_a_tied_embedding_plans_under_fsdp() -> None:
    snapshot = take_snapshot(
        LoadOptions(TIED, train=True, optimizer="adamw", fit="2xL4", shard="fsdp")
    )
    fit = snapshot.fit
    assert fit is not None and fit.fits and fit.devices == 2 and fit.shard == "fsdp"
    assert fit.per_device is not None and fit.per_device.params_bytes is not None
    # the tied weight is one tensor: each GPU holds about half the unique parameters
    unique = sum(
        p.bytes for p in snapshot.parameters if p.tie_group is None or p.name.startswith("embed")
    )
    assert fit.per_device.params_bytes < 0.75 * unique


def test_a_memory_budget_alone_fills_fit_as_a_budget(tmp_path) -> None:
    snapshot = take_snapshot(
        LoadOptions(str(ROOT / "sample_models" / "mlp.py"), train=True, memory_budget=100 * 1024)
    )
    fit = snapshot.fit
    assert fit is not None and fit.device == "budget" and fit.devices == 1
    assert fit.capacity_bytes == 100 * 1024 and fit.context_bytes == 0
    assert fit.fits == (fit.needed_bytes <= fit.capacity_bytes)


def test_a_plan_that_cannot_replay_keeps_the_report(tmp_path) -> None:
    path = tmp_path / "branchy.py"
    path.write_text(BRANCHES)
    snapshot = take_snapshot(LoadOptions(str(path), train=True, fit="2xL4", shard="fsdp"))
    assert snapshot.fit is None and snapshot.compute is not None and snapshot.memory is not None
    found = [f for f in snapshot.findings if f.code == "fit-not-available"]
    assert found and "2xL4" in found[0].message
    # netscope check gates it: a fit that was asked and not answered is no silent pass
    assert [(v.gate, v.total) for v in memory_violations(snapshot, None)] == [("fit", None)]
