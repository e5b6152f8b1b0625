"""The one loss rule every step uses (snapshot backward, meta replay, profiled --train step)."""

from __future__ import annotations

import pytest
import torch
from compute_models import IDS, build
from torch import nn

from netscope.engine.compute.loss import step_loss
from netscope.engine.compute.meta_step import step_peak
from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.options import LoadOptions
from netscope.engine.profiler.step import prepared_step
from netscope.engine.snapshot.build import snapshot_model


def test_the_files_loss_wins() -> None:
    output = torch.ones(2, requires_grad=True)
    assert step_loss(output, "batch", lambda out, batch: (out, batch)) == (output, "batch")


def test_nested_floating_outputs_needing_a_gradient_are_averaged_and_summed() -> None:
    grad = torch.tensor([1.0, 3.0], requires_grad=True) * 1
    detached = torch.tensor([100.0])
    output = {"a": [grad, detached], "ids": torch.ones(2, dtype=torch.int64)}
    assert step_loss(output, None, None).item() == 2.0  # the detached tensor is left out
    assert step_loss({"a": detached, "b": torch.tensor([2.0])}, None, None).item() == 102.0


def test_no_floating_output_is_none_or_asks_for_a_loss() -> None:
    ids = (torch.ones(2, dtype=torch.int64),)
    assert step_loss(ids, None, None) is None
    with pytest.raises(NetscopeError, match="needs a loss"):
        step_loss(ids, None, None, no_floating_output="raise")


def test_a_transformers_output_gives_its_logits_mean() -> None:
    model = build("gpt2")
    output = model(input_ids=IDS)
    assert torch.equal(step_loss(output, None, None), output.logits.float().mean())


class Frozen(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 4).requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


def frozen_target(device: str = "cpu") -> LoadedTarget:
    model = Frozen().to(device)
    example = ExampleInput(args=(torch.randn(2, 4, device=device),))
    return LoadedTarget(
        LoadOptions("m.py", train=True, device=device), "m.py", model, example_input=example
    )


def test_every_weight_frozen_skips_the_backward_everywhere() -> None:
    """The snapshot notes it, the meta replay and the profiled step run without a backward."""
    loaded = frozen_target()
    shot = snapshot_model(loaded)
    assert shot.forward is not None and not shot.forward.backward_ran
    assert shot.forward.note == "no floating output needs a gradient: backward skipped"
    assert loaded.model is not None and loaded.example_input is not None
    meta = frozen_target("meta")
    assert meta.model is not None and meta.example_input is not None
    assert step_peak(meta, meta.model, meta.example_input, 2, 4) > 0
    with prepared_step(loaded.model, loaded.example_input, "cpu", train=True) as step:
        assert step.run().requires_grad is False
