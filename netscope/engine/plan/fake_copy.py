"""The model and its inputs as fake CPU tensors for a planned replay: nothing copied or allocated,
the user's model untouched; a stack of identical blocks may be cut short (plan/repeat.py)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from netscope.engine.nested import map_tensors, plain_tensor_attributes

HALF = {"bf16": torch.bfloat16, "fp16": torch.float16}


def fake_copy(
    model: nn.Module, precision: str, removed: tuple[str, tuple[str, ...]] | None = None
) -> nn.Module:
    """A copy whose parameters, buffers and plain tensor attributes are fake CPU tensors (ties
    kept), parameters and buffers cast for a pure
    16-bit precision; ``removed``: (a container's path, children it goes without), the other
    children keeping their names (netscope/engine/plan/repeat.py)."""
    dtype = HALF.get(precision, torch.float32)  # *-mixed and fp32: fp32 master weights
    memo: dict[int, Any] = {}

    def fake(t: torch.Tensor) -> torch.Tensor:
        cast = dtype if dtype is not None and t.is_floating_point() else t.dtype
        return torch.empty(t.shape, dtype=cast, device="cpu")

    gone = _only_in_removed(model, removed) if removed is not None else set()
    for module_id in gone:
        memo[module_id] = None  # not copied: the removed blocks' entries are deleted below
    for param in model.parameters():
        if id(param) not in gone:
            memo[id(param)] = nn.Parameter(fake(param), param.requires_grad)
    for buffer in model.buffers():
        if id(buffer) not in gone:
            memo[id(buffer)] = fake(buffer)
    for tensor in plain_tensor_attributes(model):  # kept in their dtype, as Module.to() does
        memo.setdefault(id(tensor), torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu"))
    copied = copy.deepcopy(model, memo)
    if removed is not None:
        container, names = removed
        children = copied.get_submodule(container)._modules
        for name in names:
            del children[name]
    return copied


def _only_in_removed(model: nn.Module, removed: tuple[str, tuple[str, ...]]) -> set[int]:
    """Ids of the removed blocks and of the parameters and buffers only they hold: what the
    copy skips (a block or weight shared with a kept one is copied as before)."""
    container, names = removed
    prefixes = tuple(f"{container}.{n}" if container else n for n in names)
    kept: set[int] = set()
    dropped: set[int] = set()
    for path, module in model.named_modules(remove_duplicate=False):
        tensors = [*module._parameters.values(), *module._buffers.values()]
        inside = any(path == p or path.startswith(f"{p}.") for p in prefixes)
        (dropped if inside else kept).update(id(t) for t in tensors if t is not None)
        if not inside:
            kept.add(id(module))
    roots = {id(model.get_submodule(p)) for p in prefixes}
    return (dropped | roots) - kept


def fake_values(value: Any) -> Any:
    """``value`` with every nested tensor an empty CPU tensor of its shape (fake, in the mode);
    a tensor met twice (``input_ids`` that are also the ``labels``, the batch that is also the
    argument) is one fake tensor, counted once as the real step holds it once."""
    made: dict[int, torch.Tensor] = {}

    def fake(t: torch.Tensor) -> torch.Tensor:
        if id(t) not in made:
            made[id(t)] = torch.empty(t.shape, dtype=t.dtype, device="cpu")
        return made[id(t)]

    return map_tensors(fake, value)
