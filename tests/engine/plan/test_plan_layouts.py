"""Each layout option on a real model: fsdp shards the state, ddp/zero1/zero2 keep what they
keep, mixed precision keeps fp32 master weights, checkpointing frees activations, the fewest
GPUs are the fewest that fit, and the caller is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

from netscope.engine.compute.fit import fit_verdict
from netscope.engine.errors import NetscopeError
from netscope.engine.plan.layout import layout_of, split_devices
from tests.engine.plan.plan_models import BLOCKS, loaded, write

PARAMS = 16 * 64 + 64 + 4 * (64 * 256 + 256 + 256 * 64 + 64) + 64 * 4 + 4  # 133,700


def plan(path: str, **options: object):  # type: ignore[no-untyped-def]
    target = loaded(path, train=True, optimizer="adamw", **options)
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.per_device is not None
    return fit


def test_fit_spells_a_gpu_count_and_a_layout() -> None:
    assert split_devices("8xH100") == (8, "H100") and split_devices("2x24GiB") == (2, "24GiB")
    assert split_devices("RTX4090") == (1, "RTX4090")
    assert layout_of("8xH100", None, 1, None, None, "none", None).shard == "ddp"
    assert layout_of("H100", None, 1, None, "bfloat16", "none", None).precision == "bf16"
    with pytest.raises(NetscopeError, match="not a multiple"):
        layout_of("8xH100", "fsdp", 3, None, None, "none", None)


def test_fsdp_shards_parameters_gradients_and_state_over_the_gpus(tmp_path: Path) -> None:
    path = write(tmp_path)
    one = plan(path, fit="1x1GiB", shard="fsdp", memory_budget=None)
    four = plan(path, fit="4x1GiB", shard="fsdp")
    assert four.units == ("1", "2", "3", "4")  # the repeated blocks; the root is one too
    assert one.per_device.params_bytes == 4 * PARAMS
    share = four.per_device
    assert share.params_bytes == pytest.approx(4 * PARAMS / 4, rel=0.01)  # padded shards
    assert share.grads_bytes == pytest.approx(4 * PARAMS / 4, rel=0.01)
    assert share.optimizer_bytes == pytest.approx(8 * PARAMS / 4, rel=0.01)  # exp_avg(_sq)
    assert share.comm_buffers_bytes > 0 and share.peak_bytes < one.per_device.peak_bytes
    assert four.needed_bytes == share.peak_bytes and four.devices == 4


def test_ddp_zero1_zero2_fsdp_hold_less_and_less(tmp_path: Path) -> None:
    path = write(tmp_path)
    shares = {s: plan(path, fit="4x1GiB", shard=s).per_device for s in ("ddp", "zero1", "zero2")}
    shares["fsdp"] = plan(path, fit="4x1GiB", shard="fsdp").per_device
    ddp, zero1, zero2, fsdp = (shares[s] for s in ("ddp", "zero1", "zero2", "fsdp"))
    assert 8 * PARAMS < ddp.optimizer_bytes <= 8 * PARAMS + 8 * 10  # + the step scalars
    assert ddp.comm_buffers_bytes == ddp.grads_bytes == 4 * PARAMS  # DDP's buckets
    assert zero1.optimizer_bytes == ddp.optimizer_bytes // 4
    assert zero2.grads_bytes == ddp.grads_bytes // 4
    assert ddp.peak_bytes > zero1.peak_bytes > zero2.peak_bytes > fsdp.peak_bytes


def test_mixed_precision_keeps_fp32_master_weights_and_computes_in_bf16(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCKS.replace("randn(32, 16)", "randn(2048, 16)"))
    fp32 = plan(path, fit="2x1GiB", shard="fsdp").per_device
    mixed = plan(path, fit="2x1GiB", shard="fsdp", precision="bf16-mixed").per_device
    pure = plan(path, fit="2x1GiB", shard="fsdp", precision="bf16").per_device
    assert mixed.params_bytes == fp32.params_bytes
    assert mixed.optimizer_bytes == fp32.optimizer_bytes
    assert mixed.activations_bytes < 0.6 * fp32.activations_bytes  # bf16 activations
    assert pure.params_bytes == pytest.approx(fp32.params_bytes / 2, rel=0.01)
    ddp = plan(path, fit="2x1GiB", shard="ddp", precision="bf16-mixed").per_device  # autocast
    assert ddp.activations_bytes < plan(path, fit="2x1GiB").per_device.activations_bytes


def test_checkpointing_saves_only_the_blocks_inputs(tmp_path: Path) -> None:
    path = write(tmp_path)
    none = plan(path, fit="2x1GiB", shard="fsdp")
    every = plan(path, fit="2x1GiB", shard="fsdp", checkpoint="all")
    some = plan(path, fit="2x1GiB", shard="fsdp", checkpoint="2,Block")  # a path and a class
    assert every.checkpoint == ("1", "2", "3", "4") and some.checkpoint == ("1", "2", "3", "4")
    assert every.per_device.activations_bytes < none.per_device.activations_bytes / 2
    assert every.recompute_flops is None  # no snapshot figures were handed in
    assert "apply_activation_checkpointing" in every.checkpoint_code


def test_the_fewest_gpus_are_the_fewest_that_fit(tmp_path: Path) -> None:
    path = write(tmp_path)
    two = plan(path, fit="2x1GiB", shard="fsdp").per_device.peak_bytes
    eight = plan(path, fit="8x1GiB", shard="fsdp").per_device.peak_bytes
    budget = (two + eight) // 2  # fits somewhere between 3 and 8 GPUs
    fit = plan(path, fit=f"2x{budget}", shard="fsdp")
    assert not fit.fits and fit.min_devices is not None
    at_least = plan(path, fit=f"{fit.min_devices}x{budget}", shard="fsdp")
    one_less = plan(path, fit=f"{fit.min_devices - 1}x{budget}", shard="fsdp")
    assert at_least.fits and not one_less.fits
    assert plan(path, fit="2x1KiB", shard="fsdp").min_devices is None  # nothing fits
    assert plan(path, fit="2x1KiB", shard="ddp").min_devices is None


def test_the_replay_leaves_the_caller_as_it_was(tmp_path: Path) -> None:
    target = loaded(write(tmp_path), train=True, optimizer="adamw", fit="4x1GiB", shard="fsdp")
    before = {k: v.clone() for k, v in target.model.state_dict().items()}
    fit_verdict(target, target.example_input)
    assert not dist.is_initialized() and _get_current_dispatch_mode_stack() == []
    after = target.model.state_dict()
    assert all(torch.equal(before[k], after[k]) and after[k].device.type == "cpu" for k in before)
    assert all(p.grad is None for p in target.model.parameters())
    assert type(target.model[1]).__name__ == "Block"  # not an FSDP or checkpoint class


def test_a_budget_alone_plans_one_device(tmp_path: Path) -> None:
    fit = plan(write(tmp_path), memory_budget=2**30)
    assert fit.device == "budget" and fit.capacity_bytes == 2**30 and fit.context_bytes == 0
    assert fit.devices == 1 and fit.shard == "none" and fit.fits


def test_tensor_parallel_splits_the_planned_blocks_weights(tmp_path: Path) -> None:
    """transformers' own tp plan (config.base_model_tp_plan) on a small Llama, inference."""
    from tests.engine.plan.plan_models import REAL

    llama = str(REAL / "llama_model.py")
    replicated = loaded(llama, fit="2x80GiB", shard="none")
    split = loaded(llama, fit="2x80GiB", shard="none", tp=2)
    one = fit_verdict(replicated, replicated.example_input)
    two = fit_verdict(split, split.example_input)
    assert one is not None and two is not None and one.per_device and two.per_device
    layers = 4 * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 688) * 4  # the planned Linears
    assert two.per_device.params_bytes == one.per_device.params_bytes - layers // 2
    assert two.tp == 2 and two.per_device.peak_bytes < one.per_device.peak_bytes
    # fsdp over the tp-split model (2-D): each GPU holds half of its tp share, padding aside
    tp_only = loaded(llama, fit="2x80GiB", shard="none", tp=2, train=True)
    both = loaded(llama, fit="4x80GiB", shard="fsdp", tp=2, train=True)
    alone, two_d = (fit_verdict(t, t.example_input) for t in (tp_only, both))
    assert alone is not None and two_d is not None and alone.per_device and two_d.per_device
    assert (two_d.tp, two_d.shard, two_d.devices) == (2, "fsdp", 4)
    half = alone.per_device.params_bytes / 2
    assert two_d.per_device.params_bytes == pytest.approx(half, abs=1024)


def test_a_planned_fit_serializes_to_the_schema(tmp_path: Path) -> None:
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from netscope.report.serialize_compute import fit_dict
    from tests.engine.plan.plan_models import ROOT

    schema = json.loads((ROOT / "docs" / "schema.json").read_text())
    fit_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/fit"}
    fit = fit_dict(plan(write(tmp_path), fit="4x1GiB", shard="zero2", checkpoint="all"))
    validator = jsonschema.Draft202012Validator(fit_schema)
    assert fit is not None and list(validator.iter_errors(fit)) == []
    assert fit["per_device"]["grads_bytes"] and fit["checkpoint"] == ["1", "2", "3", "4"]


def test_without_a_precision_the_weights_keep_their_dtype(tmp_path: Path) -> None:
    bf16 = BLOCKS.replace("nn.Linear(64, 4))", "nn.Linear(64, 4)).to(torch.bfloat16)").replace(
        "torch.randn(32, 16)", "torch.randn(32, 16, dtype=torch.bfloat16)"
    )
    fit = plan(write(tmp_path, bf16), fit="2x1GiB", shard="fsdp")
    assert fit.precision == "bf16"
    assert fit.per_device.params_bytes == pytest.approx(2 * PARAMS / 2, rel=0.01)
