"""The optimizer of a ``--train`` step, and its ``step()`` replayed on meta copies of the
parameters and gradients: the state it keeps and the temporaries it allocates, exactly as torch
would allocate them, without touching the user's weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.allocations import TrackAllocations, unique_bytes
from netscope.engine.errors import NetscopeError
from netscope.engine.nested import plain_tensor_attributes
from netscope.engine.options import OPTIMIZER_CHOICES

OPTIMIZERS = OPTIMIZER_CHOICES


def make_optimizer(
    name: str, params: list[nn.Parameter], foreach: bool | None
) -> torch.optim.Optimizer:
    """One of ``OPTIMIZERS`` with torch's default hyper-parameters (SGD: lr 0.01)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01, foreach=foreach)
    if name == "sgd-momentum":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=foreach)
    if name == "adam":
        return torch.optim.Adam(params, foreach=foreach)
    if name == "adamw":
        return torch.optim.AdamW(params, foreach=foreach)
    raise NetscopeError(
        f"unknown optimizer {name!r}", hint=f"--optimizer takes one of {', '.join(OPTIMIZERS)}"
    )


def meta_twin(model: nn.Module) -> tuple[nn.Module, dict[int, nn.Parameter]]:
    """A copy of ``model`` whose parameters, buffers and plain tensor attributes (a block's
    ``self.scale = torch.linspace(...)``, neither parameter nor buffer: its forward uses it
    beside the meta weights) are meta tensors (no weights copied), with the map from each
    original parameter's id to its twin."""
    memo: dict[int, Any] = {}
    twins: dict[int, nn.Parameter] = {}
    for param in model.parameters():
        twin = nn.Parameter(torch.empty_like(param, device="meta"), param.requires_grad)
        memo[id(param)] = twins[id(param)] = twin
    for buffer in model.buffers():
        memo[id(buffer)] = torch.empty_like(buffer, device="meta")
    for tensor in plain_tensor_attributes(model):
        memo.setdefault(id(tensor), torch.empty_like(tensor, device="meta"))
    return copy.deepcopy(model, memo), twins


class OptimizerReplay:
    """What ``optimizer.step()`` keeps (state) and allocates on top of what is live."""

    def __init__(self, state_bytes: int, peak_bytes: int, name: str) -> None:
        self.state_bytes = state_bytes  # persistent state after the first step
        self.peak_bytes = peak_bytes  # the step's high-water mark above what was live before
        self.name = name


def replay(
    model: nn.Module,
    name: str,
    user_optimizer: Callable[[nn.Module], Any] | None,
    like_cuda: bool,
    trained: list[nn.Parameter] | None = None,
) -> OptimizerReplay | None:
    """Step the optimizer once on meta twins of the parameters that got a gradient.

    ``like_cuda``: the model is meant for CUDA (on meta, or on CUDA): torch's default there is
    the foreach implementation, whose temporaries often make the optimizer step a step's peak.
    ``trained``: the parameters that got a gradient, when their ``.grad`` was already put back;
    by default those with a ``.grad`` now.
    """
    params = list({id(p): p for p in model.parameters()}.values())
    with_grad = trained
    if with_grad is None:
        with_grad = [p for p in params if p.requires_grad and p.grad is not None]
    if not with_grad:
        return None
    if user_optimizer is not None:
        twin_model, twins = meta_twin(model)
        optimizer = user_optimizer(twin_model)
        label = type(optimizer).__name__
    else:
        twins = {id(p): nn.Parameter(torch.empty_like(p, device="meta")) for p in with_grad}
        foreach = True if like_cuda else None  # torch's own default on CUDA; None elsewhere
        optimizer = make_optimizer(name, [twins[id(p)] for p in with_grad], foreach)
        label = name
    for param in with_grad:
        twin = twins.get(id(param))
        if twin is not None:
            twin.grad = torch.empty_like(param, device="meta")  # shaped as its parameter
    tracking = TrackAllocations("optimizer.step()")
    with tracking:
        optimizer.step()
    state = unique_bytes(_state_tensors(optimizer.state.values()))
    return OptimizerReplay(state, tracking.memory.peak, label)


def _state_tensors(states: Iterable[dict[str, Any]]) -> list[torch.Tensor]:
    return [v for state in states for v in state.values() if isinstance(v, torch.Tensor)]
