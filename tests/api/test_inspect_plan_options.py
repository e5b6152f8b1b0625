"""``netscope.inspect``'s ``loss=``, ``step=`` and the plan's layout (``shard``, ``tp``,
``checkpoint``, ``memory_budget``) give the JSON ``netscope report`` writes for a model file with
the same functions and options."""

from __future__ import annotations

from pathlib import Path

import pytest

import netscope
from netscope.engine.errors import NetscopeError
from tests.api.helpers import cli_json, imported, normalized


def test_loss_step_and_an_fsdp_plan_equal_the_cli(tmp_path: Path) -> None:
    module = imported("blocks_step")
    report = netscope.inspect(
        module.build_model(), **module.example_input(), step=module.step, loss=module.loss,
        train=True, optimizer="adamw", precision="bf16-mixed", fit="4xH100", shard="fsdp",
        checkpoint="all",
    )  # fmt: skip
    cli = cli_json(
        tmp_path, "blocks_step", "--train", "--optimizer", "adamw", "--precision", "bf16-mixed",
        "--fit", "4xH100", "--shard", "fsdp", "--checkpoint", "all",
    )  # fmt: skip
    api = report.to_dict()
    assert normalized(api) == normalized(cli)
    assert api["forward"]["loss_source"] == "loss(output, batch)"
    assert api["forward"]["input_summary"].endswith("from step(model, batch)")
    fit = api["fit"]
    assert (fit["shard"], fit["devices"], fit["precision"]) == ("fsdp", 4, "bf16-mixed")
    blocks = [f"blocks.{i}" for i in range(4)]
    assert fit["units"] == blocks and fit["checkpoint"] == blocks
    assert fit["per_device"]["comm_buffers_bytes"] > 0 and fit["recompute_flops"] > 0


def test_tensor_parallel_with_a_plan_equals_the_cli(tmp_path: Path) -> None:
    module = imported("blocks_step")
    plan = {"blocks.*.mlp.0": "colwise", "blocks.*.mlp.2": "rowwise"}
    report = netscope.inspect(
        module.build_model(), **module.example_input(), loss=module.loss, step=module.step,
        train=True, fit="2xH100", tp=2, tp_plan=plan,
    )  # fmt: skip
    cli = cli_json(tmp_path, "blocks_step", "--train", "--fit", "2xH100", "--tp", "2")
    api = report.to_dict()
    assert normalized(api) == normalized(cli)
    assert api["fit"]["tp"] == 2 and api["fit"]["per_device"]["comm_buffers_bytes"] > 0
    whole = netscope.inspect(module.build_model(), **module.example_input(), loss=module.loss,
                             train=True, fit="2xH100")  # fmt: skip
    split = report.fit.per_device if report.fit else None
    assert split is not None and whole.fit is not None and whole.fit.per_device is not None
    assert split.params_bytes < whole.fit.per_device.params_bytes


def test_a_loss_alone_is_the_step_s_loss(tmp_path: Path) -> None:
    module = imported("blocks_step")
    report = netscope.inspect(module.build_model(), **module.example_input(), loss=module.loss)
    assert report.forward.loss_source == "loss(output, batch)"
    assert report.compute is not None and report.compute.backward_flops
    default = netscope.inspect(module.build_model(), **module.example_input())
    assert default.forward.loss_source == "mean of floating outputs"


def test_a_memory_budget_is_a_size_in_bytes_or_text() -> None:
    module = imported("blocks_step")
    model, batch = module.build_model(), module.example_input()
    by_text = netscope.inspect(model, **batch, loss=module.loss, train=True, memory_budget="1KiB")
    by_bytes = netscope.inspect(model, **batch, loss=module.loss, train=True, memory_budget=1024)
    assert by_text.to_dict()["fit"] == by_bytes.to_dict()["fit"]
    assert by_text.fit is not None and not by_text.fit.fits


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"shard": "zero9"}, "unknown shard 'zero9'"),
        ({"tp": 0}, "tp=0 is not a tensor-parallel degree"),
        ({"memory_budget": "lots"}, "memory_budget='lots' is not a size"),
    ],
)
def test_a_wrong_layout_is_named(option: dict, message: str) -> None:
    module = imported("blocks_step")
    with pytest.raises(NetscopeError, match=message):
        netscope.inspect(module.build_model(), **module.example_input(), **option)
