"""The snapshot of FSDP2 and tensor-parallel models (DTensor parameters), static and without
any collective: global shapes with each rank's local shard, FSDP units, parallel styles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.structure import structure_snapshot
from netscope.report.serialize import report_dict
from tests.engine.sharded.fake_world import fsdp_model as _fsdp_model
from tests.engine.sharded.fake_world import snapshot_of as _snapshot
from tests.engine.sharded.fake_world import tp_model as _tp_model

pytest.importorskip("torch.distributed.fsdp")


def test_fsdp2_parameters_have_their_global_shape_and_this_ranks_shard():
    model = _fsdp_model()
    plain = sum(p.numel() for p in model.parameters())  # DTensors: numel is global
    snapshot = _snapshot(model)
    params = {p.name: p for p in snapshot.parameters}
    up = params["0.up.weight"]
    assert up.shape == (32, 16) and up.local_shape == (16, 16)
    assert up.placements == ("Shard(dim=0)",)
    assert up.mesh is not None and up.mesh.shape == (2,) and up.mesh.device_type == "cpu"
    assert up.numel == 512 and up.bytes == 512 * 4
    assert params["2.bias"].shape == (4,) and params["2.bias"].local_shape == (2,)
    assert snapshot.total_params == plain == 2 * (16 * 32 + 32 + 32 * 16 + 16) + 16 * 4 + 4
    # statistics of the local shard, read without a gather
    local = model[0].up.weight.to_local()
    assert up.stats is not None and up.stats.mean == pytest.approx(local.mean().item(), rel=1e-6)
    assert not snapshot.ties


def test_fsdp2_units_are_marked_with_their_reshard_and_mixed_precision_policy():
    blocks = {b.path: b for b in _snapshot(_fsdp_model()).blocks}
    assert blocks[""].fsdp_unit and blocks["0"].fsdp_unit and blocks["1"].fsdp_unit
    assert not blocks["0.up"].fsdp_unit and not blocks["2"].fsdp_unit
    first, second = blocks["0"].fsdp, blocks["1"].fsdp
    assert first is not None and second is not None
    assert first.reshard_after_forward is True and second.reshard_after_forward is False
    assert (first.param_dtype, first.reduce_dtype, first.output_dtype) == (
        "bfloat16",
        "float32",
        None,
    )
    assert blocks["0.up"].parallel_style is None  # FSDP's Shard(dim=0) is not tensor parallel


def test_a_snapshot_while_fsdp2_holds_unsharded_parameters_reads_the_shards():
    """Inside a unit's forward its _parameters are unsharded tensors (freed after reshard): the
    snapshot reads FSDP's sharded DTensors instead and leaves the step as it was."""
    model = _fsdp_model(bf16=False)  # the fake group's all-gather casts nothing
    taken: list[Snapshot] = []
    swapped: list[bool] = []

    def inside(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        swapped.append(type(module._parameters["weight"]).__name__ != "DTensor")
        taken.append(_snapshot(model))

    handle = model[0].up.register_forward_hook(inside)  # inside the unit: unsharded
    try:
        model(torch.randn(4, 16)).sum().backward()
    finally:
        handle.remove()
    assert swapped == [True]
    params = {p.name: p for p in taken[0].parameters}
    assert params["0.up.weight"].local_shape == (16, 16)
    assert params["0.up.weight"].placements == ("Shard(dim=0)",)
    assert all(p.stats is not None for p in params.values())


def test_tensor_parallel_styles_are_read_from_the_hooks_parallelize_module_registered():
    snapshot = _snapshot(_tp_model())
    blocks = {b.path: b for b in snapshot.blocks}
    assert (blocks["up"].parallel_style, blocks["up"].parallel_style_how) == (
        "ColwiseParallel",
        "hook",
    )
    assert blocks["down"].parallel_style == "RowwiseParallel"
    assert blocks[""].parallel_style is None and not blocks["up"].fsdp_unit
    params = {p.name: p for p in snapshot.parameters}
    assert params["up.weight"].local_shape == (16, 16)
    assert params["down.weight"].placements == ("Shard(dim=1)",)
    assert params["down.bias"].placements == ("Replicate()",)
    assert params["down.bias"].local_shape is None  # replicated: the whole tensor is here
    assert params["up.weight"].mesh is not None and params["up.weight"].mesh.dim_names == ("tp",)
    assert snapshot.total_params == 16 * 32 + 32 + 32 * 16 + 16


def test_the_structure_snapshot_and_the_json_carry_the_sharding():
    model = _tp_model()
    loaded = LoadedTarget(LoadOptions(target="train.py", device="cpu"), "train.py", model)
    structure = structure_snapshot(loaded)
    assert structure is not None
    assert {b.path: b.parallel_style for b in structure.blocks}["up"] == "ColwiseParallel"
    report = json.loads(json.dumps(report_dict(_snapshot(model))))
    params = {p["name"]: p for p in report["model"]["parameters"]}
    assert params["up.weight"]["shape"] == [32, 16]
    assert params["up.weight"]["local_shape"] == [16, 16]
    assert params["up.weight"]["placements"] == ["Shard(dim=0)"]
    assert params["up.weight"]["mesh"] == {"shape": [2], "dim_names": ["tp"], "device_type": "cpu"}
    modules = {m["path"]: m for m in report["model"]["modules"]}
    assert modules["up"]["parallel_style"] == "ColwiseParallel" and not modules["up"]["fsdp_unit"]
    fsdp = json.loads(json.dumps(report_dict(_snapshot(_fsdp_model()))))
    units = {m["path"]: m for m in fsdp["model"]["modules"]}
    assert units["0"]["fsdp_unit"] and units["0"]["fsdp"]["param_dtype"] == "bfloat16"
    plain = {p["name"]: p for p in fsdp["model"]["parameters"]}
    assert plain["0.up.weight"]["local_shape"] == [16, 16]


def test_netscope_report_of_a_file_building_a_sharded_model(tmp_path):
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "report", "fsdp_fake_model.py", "-o",
         str(tmp_path / "r.md")],
        cwd=here, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    markdown = (tmp_path / "r.md").read_text()
    assert "| `0.weight` | [128, 64] | [32, 64] | Shard(dim=0) | (4,) cpu |" in markdown
    assert "| `0` | Linear | reshard_after_forward=True |  |" in markdown  # not FSDPLinear
    assert "| Parameters | 16,576 (ties counted once) |" in markdown  # global, once
