"""The loss a step takes from a model's outputs: one rule for the snapshot's backward, the meta
replay of ``--fit`` and the profiled ``--train`` step.

The file's ``loss(output, batch)`` when it has one; else the sum of the means (in float32) of the
floating tensors in the output, nested ones included: those that need a gradient, or all of them
when none does (a frozen model's loss then has no gradient, and callers skip its backward).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch

from netscope.engine.errors import NetscopeError
from netscope.engine.nested import tensors_in

FROM_FILE = "loss(output, batch)"
FROM_OUTPUTS = "mean of floating outputs"
LossFn = Callable[[Any, Any], Any]


def loss_source(loss_fn: LossFn | None) -> str:
    """How ``step_loss`` takes the loss, in the words of the call made: ``FROM_FILE``,
    ``loss(output)`` for a one-argument loss, or ``FROM_OUTPUTS``."""
    if loss_fn is None:
        return FROM_OUTPUTS
    return str(getattr(loss_fn, "called_as", FROM_FILE))


def step_loss(
    output: Any,
    batch: Any,
    loss_fn: LossFn | None,
    no_floating_output: Literal["none", "raise"] = "none",
) -> Any:
    """The step's loss; with no floating output: None, or a NetscopeError asking for a loss."""
    if loss_fn is not None:
        return loss_fn(output, batch)
    floating = [t for t in tensors_in(output) if t.is_floating_point()]
    parts = [t for t in floating if t.requires_grad] or floating
    if parts:
        return torch.stack([t.float().mean() for t in parts]).sum()
    if no_floating_output == "raise":
        raise NetscopeError(
            "--train needs a loss: the output has no floating tensor",
            hint="Define loss(output, batch) in the model file.",
        )
    return None
