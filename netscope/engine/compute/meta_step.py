"""The step as asked, run on meta at another batch size: what it would hold at that batch.

A model on the CPU or CUDA is run through a meta twin (parameters and buffers as meta tensors,
nothing copied); every tensor argument whose first dimension is the example's batch gets that
dimension scaled. Used by ``--fit`` for the largest batch that fits.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from netscope.engine.compute.allocations import TrackAllocations, unique_bytes
from netscope.engine.compute.attention import AttentionCalls
from netscope.engine.compute.counter import StepCounter
from netscope.engine.compute.loss import step_loss
from netscope.engine.compute.optimizer import meta_twin, replay
from netscope.engine.compute.step import with_optimizer
from netscope.engine.load.example import batch_of
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.modes import training_flags_kept
from netscope.engine.nested import map_tensors
from netscope.engine.snapshot.forward import tensor_leaves
from netscope.engine.snapshot.lightmeta import light_meta_forward


def batch_size(call: ExampleInput) -> int | None:
    """The first dimension of the first tensor argument with one."""
    for _, tensor in tensor_leaves([*call.args, *call.kwargs.values()]):
        if tensor.dim() >= 1:
            return int(tensor.shape[0])
    return None


def _scaled(value: Any, batch: int, new_batch: int) -> Any:
    """``value`` with every nested tensor an empty meta tensor, its batch dimension resized."""

    def resized(tensor: torch.Tensor) -> torch.Tensor:
        shape = list(tensor.shape)
        if shape and shape[0] == batch:
            shape[0] = new_batch
        return torch.empty(shape, dtype=tensor.dtype, device="meta")

    return map_tensors(resized, value)


def scaled_together(value: Any, batch: int, new_batch: int) -> Any:
    """``value``'s tensors as meta tensors at ``new_batch``; a tensor met twice (the arguments'
    ``input_ids`` that are also the batch's ``labels``) stays one tensor, held once."""
    made: dict[int, Any] = {}

    def scaled(tensor: torch.Tensor) -> Any:
        if id(tensor) not in made:
            made[id(tensor)] = _scaled(tensor, batch, new_batch)
        return made[id(tensor)]

    return map_tensors(scaled, value)


def meta_model(model: nn.Module) -> nn.Module:
    tensors = [*model.parameters(), *model.buffers()]
    if all(t.device.type == "meta" for t in tensors):
        return model
    return meta_twin(model)[0]


def step_peak(
    loaded: LoadedTarget, model: nn.Module, call: ExampleInput, batch: int, new_batch: int
) -> int:
    """Peak bytes of the step as asked (inference, or --train's) at ``new_batch``, on meta."""
    train = loaded.options.train
    example = loaded.example_input or call  # loss() takes example_input()'s batch
    # the loss's batch is the step's input: its labels (often the arguments' input_ids) are
    # held before the step, not allocated by it
    args, kwargs, batch_now = scaled_together(
        (call.args, call.kwargs, batch_of(example) if train else None), batch, new_batch
    )
    params = list({id(p): p for p in model.parameters()}.values())
    baseline = unique_bytes([*params, *model.buffers()])
    baseline += unique_bytes(t for _, t in tensor_leaves([args, kwargs, batch_now]))
    tracking = TrackAllocations("step")
    with training_flags_kept(model):
        try:
            model.train(train)
            attention = AttentionCalls(StepCounter({}))  # SDPA fused, as in the snapshot
            with light_meta_forward(), torch.set_grad_enabled(train), attention, tracking:
                output = model(*args, **kwargs)
                if not train:
                    return baseline + tracking.memory.peak
                loss = step_loss(output, batch_now, loaded.loss_fn)
                if isinstance(loss, torch.Tensor) and loss.requires_grad:  # all frozen: none
                    loss.backward()
            # a loop's output is still held at its optimizer.step() (``out = model(x)`` stays
            # bound), as the snapshot's step holds it (its scalar loss is gone there)
            del loss
            live_at_step = baseline + tracking.memory.current
            del output
            replayed = replay(model, loaded.options.optimizer, loaded.optimizer_fn, True)
            peak = baseline + tracking.memory.peak
            if replayed is None:
                return peak
            return with_optimizer(peak, "", live_at_step, replayed)[0]
        finally:
            for param in params:
                param.grad = None
