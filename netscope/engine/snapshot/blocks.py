"""The block tree: one BlockInfo per ``named_modules(remove_duplicate=False)`` path, pre-order.

Every path a module is reachable by is listed (so ``2`` and ``4`` both appear when one layer is
used twice, as ``state_dict`` names them); ``aliases`` links the paths of one module object.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from netscope.engine.compute.step import BlockCompute
from netscope.engine.dtypes import dtype_name
from netscope.engine.model import BlockInfo, DerivedTensor, ParamInfo, UnregisteredTensor
from netscope.engine.self_figures import own_figures
from netscope.engine.snapshot.classes import CONTAINERS, class_source, is_builtin, user_class
from netscope.engine.snapshot.forward import ForwardRecord
from netscope.engine.snapshot.special import derived_attributes, own_attributes
from netscope.engine.snapshot.tensors import ParamCounts
from netscope.engine.snapshot.values import activation_stats


def _unregistered_of(path: str, module: nn.Module) -> list[UnregisteredTensor]:
    found = []
    derived: set[str] | None = None
    for attr, value in own_attributes(module):
        if isinstance(value, (list, tuple)):
            values = [(i, v) for i, v in enumerate(value) if isinstance(v, torch.Tensor)]
        elif isinstance(value, torch.Tensor):
            values = [(None, value)]  # type: ignore[list-item]  # no index: the attribute itself
        else:
            continue
        if derived is None:  # pruned `weight`: rebuilt by a hook, not a defect
            derived = derived_attributes(module)
        if attr in derived:
            continue
        for index, item in values:
            if not isinstance(item, nn.Parameter):
                name = attr if index is None else f"{attr}[{index}]"
                found.append(
                    UnregisteredTensor(path, name, tuple(item.shape), dtype_name(item.dtype),
                                       str(item.device))
                )  # fmt: skip
    return found


def unregistered_tensors(model: nn.Module) -> tuple[UnregisteredTensor, ...]:
    """Tensor attributes that are neither parameter nor buffer, once per module object."""
    found: list[UnregisteredTensor] = []
    for path, module in model.named_modules():
        found += _unregistered_of(path, module)
    return tuple(found)


def first_path_unregistered(
    named: Sequence[tuple[str, nn.Module]], blocks: Sequence[BlockInfo]
) -> tuple[UnregisteredTensor, ...]:
    """``unregistered_tensors`` from built blocks: those of each module object's first path."""
    seen: set[int] = set()
    found: list[UnregisteredTensor] = []
    for (_path, module), block in zip(named, blocks, strict=True):
        if id(module) not in seen:
            seen.add(id(module))
            found += block.unregistered
    return tuple(found)


def _with_containers(
    named: Sequence[tuple[str, nn.Module]],
    children: dict[str, list[str]],
    by_module: dict[int, int] | None,
) -> dict[str, int] | None:
    """Per path: the module's counted value; a container that is never called itself
    (ModuleList, ModuleDict) holds the sum of its children's."""
    if by_module is None:
        return None
    values: dict[str, int] = {}
    for path, module in reversed(named):
        value = by_module.get(id(module), 0)
        if not value and isinstance(module, CONTAINERS):
            value = sum(values.get(child, 0) for child in children.get(path, ()))
        values[path] = value
    return values


def build_blocks(
    named: Sequence[tuple[str, nn.Module]],
    counts: ParamCounts,
    params: Sequence[ParamInfo],
    buffers: Sequence[ParamInfo],
    record: ForwardRecord | None,
    derived: dict[str, tuple[DerivedTensor, ...]] | None = None,
    compute: BlockCompute | None = None,
) -> tuple[BlockInfo, ...]:
    """BlockInfo rows in pre-order; ``record`` None means no forward ran (calls unknown)."""
    paths_of: dict[int, list[str]] = {}
    children: dict[str, list[str]] = {}
    for path, module in named:
        paths_of.setdefault(id(module), []).append(path)
        if path:
            children.setdefault(path.rpartition(".")[0], []).append(path)
    param_names: dict[str, list[str]] = {}
    for info in params:
        param_names.setdefault(info.block, []).append(info.name)
    buffer_names: dict[str, list[str]] = {}
    for info in buffers:
        buffer_names.setdefault(info.block, []).append(info.name)
    activations = {}
    if record is not None:
        keys = list(record.activations)
        activations = dict(
            zip(keys, activation_stats([record.activations[k] for k in keys]), strict=False)
        )
        record.activations.clear()  # the outputs' copies go before the rows are made
    forward = backward = saved = None
    if compute is not None:
        forward = _with_containers(named, children, compute.forward)
        backward = _with_containers(named, children, compute.backward)
        saved = _with_containers(named, children, compute.saved)
    aliases = {
        path: paths_of[id(module)] for path, module in named if len(paths_of[id(module)]) > 1
    }
    own_forward = own_figures(forward, children, aliases)
    own_backward = own_figures(backward, children, aliases)
    own_saved = own_figures(saved, children, aliases)
    derived = derived or {}
    blocks = []
    for path, module in named:
        cls = user_class(module)
        custom = not is_builtin(cls)
        key = id(module)
        uncalled = isinstance(module, CONTAINERS) or cls is nn.Module
        calls = None if record is None or uncalled else record.calls.get(key, 0)
        paths = paths_of[key]
        parent, _, name = path.rpartition(".")
        blocks.append(
            BlockInfo(
                path=path,
                name=name,
                type=cls.__name__,
                type_module=cls.__module__,
                custom=custom,
                source=class_source(cls) if custom else None,
                depth=path.count(".") + 1 if path else 0,
                parent=parent if path else None,
                children=tuple(children.get(path, ())),
                container=uncalled,
                params=counts.own.get(path, 0),
                total_params=counts.tree.get(path, 0),
                uninitialized_params=counts.uncounted.get(path, 0),
                parameter_names=tuple(param_names.get(path, ())),
                buffer_names=tuple(buffer_names.get(path, ())),
                calls=calls,
                outputs=() if record is None else record.outputs.get(key, ()),
                activation=activations.get(key),
                aliases=() if len(paths) == 1 else tuple(p for p in paths if p != path),
                unregistered=tuple(_unregistered_of(path, module)),
                weights_used_by=record.used_by.get(key) if record and calls == 0 else None,
                derived=derived.get(path, ()),
                forward_flops=None if forward is None else forward[path],
                backward_flops=None if backward is None else backward[path],
                saved_bytes=None if saved is None else saved[path],
                self_forward_flops=None if own_forward is None else own_forward[path],
                self_backward_flops=None if own_backward is None else own_backward[path],
                self_saved_bytes=None if own_saved is None else own_saved[path],
            )
        )
    return tuple(blocks)
