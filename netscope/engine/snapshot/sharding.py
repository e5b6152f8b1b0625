"""DTensor parameters, FSDP2 units and tensor-parallel styles, read without a collective.

A sharded model is described from what this rank holds: a DTensor's global shape, its local
shard (``_local_tensor``: no ``full_tensor()``, no redistribute, so no collective that would
deadlock the job when one rank snapshots) and its placements on the mesh. FSDP2 swaps a unit's
``_parameters`` between the sharded DTensors and unsharded tensors whose storage it frees after
forward; the sharded parameters are read from the unit's own state instead, so no data pointer
of a freed storage is touched. Nothing here is imported or walked unless torch.distributed's
tensor package is loaded (then no DTensor exists).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from netscope.engine.dtypes import dtype_name
from netscope.engine.model import BlockInfo, FsdpUnit, MeshInfo

_TENSOR_PACKAGE = "torch.distributed.tensor"
_FSDP_PACKAGE = "torch.distributed.fsdp"


def _dtensor_class() -> type | None:
    package = sys.modules.get(_TENSOR_PACKAGE)
    return getattr(package, "DTensor", None) if package is not None else None


def sharding_loaded() -> bool:
    """False when no DTensor or FSDP2 unit can exist in this process (the fast path)."""
    return _TENSOR_PACKAGE in sys.modules


def local_tensors(tensors: Sequence[torch.Tensor | None]) -> list[torch.Tensor | None]:
    """This rank's part of each tensor: a DTensor's local shard; None for a freed storage."""
    dtensor = _dtensor_class()
    if dtensor is None:
        return list(tensors)
    return [_local(t, dtensor) for t in tensors]


def local_of(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return local_tensors([tensor])[0]


def _local(tensor: torch.Tensor | None, dtensor: type) -> torch.Tensor | None:
    if tensor is None:
        return None
    if isinstance(tensor, dtensor):
        tensor = tensor._local_tensor  # type: ignore[attr-defined]
    if _freed(tensor):
        return None
    return tensor


def _freed(tensor: torch.Tensor) -> bool:
    """An unsharded FSDP2 parameter after reshard: elements, but a storage of 0 bytes."""
    if tensor.is_meta or is_lazy(tensor) or tensor.numel() == 0:
        return False
    try:
        return tensor.untyped_storage().nbytes() == 0
    except (RuntimeError, NotImplementedError):
        return True


def layout_of(tensor: torch.Tensor) -> tuple[tuple[int, ...], tuple[str, ...], MeshInfo] | None:
    """(local shape, placements, mesh) of a DTensor; None for any other tensor."""
    dtensor = _dtensor_class()
    if dtensor is None or not isinstance(tensor, dtensor):
        return None
    mesh = tensor.device_mesh  # type: ignore[attr-defined]
    names = mesh.mesh_dim_names
    info = MeshInfo(
        shape=tuple(int(n) for n in mesh.shape),
        dim_names=None if names is None else tuple(names),
        device_type=str(mesh.device_type),
    )
    local = tensor._local_tensor  # type: ignore[attr-defined]
    placements = tuple(repr(p) for p in tensor.placements)  # type: ignore[attr-defined]
    return tuple(local.shape), placements, info


def _fsdp_module_class() -> type | None:
    package = sys.modules.get(_FSDP_PACKAGE)
    return getattr(package, "FSDPModule", None) if package is not None else None


def _param_group(module: nn.Module) -> Any:
    try:
        return module._get_fsdp_state()._fsdp_param_group  # type: ignore[operator]
    except (AttributeError, RuntimeError):
        return None


def sharded_parameters(modules: Iterable[nn.Module]) -> dict[tuple[int, str], torch.Tensor]:
    """(id(module), attribute) -> the sharded parameter FSDP2 keeps for it, for every unit.

    FSDP2 puts unsharded tensors in ``_parameters`` between its all-gather and its reshard;
    these are the DTensors the optimizer steps, whatever ``_parameters`` holds right now.
    """
    fsdp_module = _fsdp_module_class()
    if fsdp_module is None:
        return {}
    found: dict[tuple[int, str], torch.Tensor] = {}
    for module in modules:
        if not isinstance(module, fsdp_module):
            continue
        group = _param_group(module)
        for fsdp_param in getattr(group, "fsdp_params", ()) if group is not None else ():
            info = fsdp_param._module_info
            owners = [(info.module, info.param_name)]
            owners += list(zip(info.shared_modules, info.shared_param_names, strict=False))
            for owner, name in owners:
                found[(id(owner), name)] = fsdp_param.sharded_param
    return found


def fsdp_unit_of(module: nn.Module) -> FsdpUnit | None:
    """The settings ``fully_shard`` gave this block; None when it is not an FSDP2 unit."""
    fsdp_module = _fsdp_module_class()
    if fsdp_module is None or not isinstance(module, fsdp_module):
        return None
    group = _param_group(module)
    if group is None:  # a unit without parameters of its own
        return FsdpUnit(reshard_after_forward=None)
    policy = getattr(group, "mp_policy", None)
    post_forward = getattr(group, "post_forward_mesh_info", None)
    reshard: bool | int | None = post_forward is not None
    mesh_info = getattr(group, "mesh_info", None)
    if post_forward is not None and mesh_info is not None:
        size = getattr(post_forward, "shard_mesh_size", None)
        if size is not None and size != getattr(mesh_info, "shard_mesh_size", size):
            reshard = int(size)  # resharded to a smaller group after forward
    return FsdpUnit(
        reshard_after_forward=reshard,
        param_dtype=_dtype_or_none(getattr(policy, "param_dtype", None)),
        reduce_dtype=_dtype_or_none(getattr(policy, "reduce_dtype", None)),
        output_dtype=_dtype_or_none(getattr(policy, "output_dtype", None)),
        parameters=len(getattr(group, "fsdp_params", ())),
    )


def _dtype_or_none(dtype: torch.dtype | None) -> str | None:
    return None if dtype is None else dtype_name(dtype)


def parallel_style_of(module: nn.Module, fsdp_managed: bool) -> tuple[str | None, str]:
    """(style, how): the ParallelStyle whose hooks ``parallelize_module`` registered on the
    block ("hook"), else a Linear/Embedding's style inferred from its weight's placements
    ("inferred from placements", only where FSDP does not own the weight: its Shard(dim=0)
    is data parallel); (None, "") for a block without tensor parallelism."""
    if not sharding_loaded():
        return None, ""
    hooks = [*module._forward_pre_hooks.values(), *module._forward_hooks.values()]
    for hook in hooks:
        style = _style_in(hook)
        if style is not None:
            return style, "hook"
    style = None if fsdp_managed else _style_from_placements(module)
    return style, "inferred from placements" if style else ""


def _style_in(hook: Any) -> str | None:
    """The ParallelStyle behind a hook: ``distribute_module`` wraps the style's input/output
    function (a static method, in a partial) in a lambda; its qualified name names the class."""
    seen: list[Any] = [hook]
    for _ in range(4):  # lambda -> partial -> function or bound method
        following: list[Any] = []
        for item in seen:
            owner = getattr(item, "__self__", None)
            if owner is not None and _is_style(type(owner)):
                return type(owner).__name__
            style = _style_named_by(item)
            if style is not None:
                return style
            if isinstance(item, functools.partial):
                following.append(item.func)
            for cell in getattr(item, "__closure__", None) or ():
                try:
                    following.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    continue
        seen = following
    return None


def _style_named_by(function: Any) -> str | None:
    """``ColwiseParallel._prepare_input_fn`` -> "ColwiseParallel" when that is a ParallelStyle."""
    qualname = getattr(function, "__qualname__", "")
    owner_name, dot, _ = qualname.rpartition(".")
    module = sys.modules.get(getattr(function, "__module__", "") or "")
    owner = getattr(module, owner_name, None) if dot and "<" not in owner_name else None
    return owner_name if isinstance(owner, type) and _is_style(owner) else None


def _is_style(cls: type) -> bool:
    return any(c.__name__ == "ParallelStyle" for c in cls.__mro__)


def _style_from_placements(module: nn.Module) -> str | None:
    weight = dict(module._parameters.items()).get("weight")  # a ScriptModule's is no dict
    layout = layout_of(weight) if weight is not None else None
    if layout is None:
        return None
    placements = layout[1]
    if any(p == "Shard(dim=0)" for p in placements):
        return "RowwiseParallel" if isinstance(module, nn.Embedding) else "ColwiseParallel"
    if any(p == "Shard(dim=1)" for p in placements):
        return "ColwiseParallel" if isinstance(module, nn.Embedding) else "RowwiseParallel"
    return None


def with_sharding(
    blocks: tuple[BlockInfo, ...], named: Sequence[tuple[str, nn.Module]]
) -> tuple[BlockInfo, ...]:
    """Blocks with their FSDP2 unit and tensor-parallel style; the same tuple when no DTensor
    can exist."""
    if not sharding_loaded():
        return blocks
    modules = dict(named)
    fsdp_owned = {owner for owner, _ in sharded_parameters(modules.values())}
    out = []
    for block in blocks:
        module = modules.get(block.path)
        if module is None:
            out.append(block)
            continue
        unit = fsdp_unit_of(module)
        style, how = parallel_style_of(module, id(module) in fsdp_owned)
        if unit is None and style is None:
            out.append(block)
        else:
            out.append(replace(block, fsdp=unit, parallel_style=style, parallel_style_how=how))
    return tuple(out)
