"""A model's long lists in the report: one dict per module, parameter and buffer.

A 20,000-block model has 60,000 of them (120 MiB as dicts). ``ItemList`` makes them a slice at a
time, so the JSON writer streams them without the whole list ever existing; every other reader
takes ``whole()``, the plain list. Each list's figures are rounded up front in one ``nums`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from netscope.engine.model import (
    ActivationStats,
    BlockInfo,
    DerivedTensor,
    GradStats,
    OutputInfo,
    ParamInfo,
    TensorStats,
)
from netscope.report.serialize_sharding import mesh_dict, sharding_details
from netscope.report.values import num, nums, shape_list

Figures = Sequence[float | None]
_Row = TypeVar("_Row")


class ItemList:
    """``count`` item dicts that ``build(start, end)`` makes for items ``start`` to ``end``."""

    def __init__(self, count: int, build: Callable[[int, int], list[dict[str, Any]]]) -> None:
        self.count = count
        self.build = build

    def __len__(self) -> int:
        return self.count

    def slices(self, size: int) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, self.count, size):
            yield self.build(start, min(start + size, self.count))

    def whole(self) -> list[dict[str, Any]]:
        return self.build(0, self.count)


def _stats_floats(stats: TensorStats) -> tuple[float | None, ...]:
    low, high = stats.histogram_range or (None, None)
    return (stats.mean, stats.std, stats.min, stats.max, stats.l2, stats.zero_fraction, low, high)


def _grad_floats(grad: GradStats) -> tuple[float | None, ...]:
    return (grad.norm, grad.mean, grad.max_abs)


def _activation_floats(activation: ActivationStats) -> tuple[float | None, ...]:
    return (activation.mean, activation.std, activation.zero_fraction)


def _rounded_flat(
    items: Sequence[_Row | None], floats_of: Callable[[_Row], tuple[float | None, ...]], width: int
) -> list[float | None]:
    """Every item's ``width`` floats through ``num`` in one flat list (a missing item's are
    None): item ``i``'s figures are ``[i * width : (i + 1) * width]``, sliced when needed."""
    flat: list[float | None] = []
    missing = (None,) * width
    for item in items:
        flat.extend(missing if item is None else floats_of(item))
    return nums(flat)


def stats_dict(stats: TensorStats | None, rounded: Figures) -> dict[str, Any] | None:
    """``rounded``: ``_stats_floats`` already through ``num``."""
    if stats is None:
        return None
    mean, std, minimum, maximum, l2, zero_fraction, range_low, range_high = rounded
    return {
        "mean": mean,
        "std": std,
        "min": minimum,
        "max": maximum,
        "l2": l2,
        "nan": stats.nan,
        "inf": stats.inf,
        "zero_fraction": zero_fraction,
        "histogram": list(stats.histogram),
        "histogram_range": None if stats.histogram_range is None else [range_low, range_high],
        "over": stats.over,
    }


def grad_dict(grad: GradStats | None, rounded: Figures) -> dict[str, Any] | None:
    if grad is None:
        return None
    norm, mean, max_abs = rounded
    return {
        "present": grad.present,
        "norm": norm,
        "mean": mean,
        "max_abs": max_abs,
        "nan": grad.nan,
        "inf": grad.inf,
        "over": grad.over,
    }


def quantization_dict(info: ParamInfo) -> dict[str, Any] | None:
    q = info.quantization
    if q is None:
        return None
    return {
        "scheme": q.scheme,
        "scale": num(q.scale),
        "zero_point": q.zero_point,
        "axis": q.axis,
        "channels": q.channels,
        "scale_range": None if q.scale_range is None else [num(v) for v in q.scale_range],
        "zero_point_range": (
            None if q.zero_point_range is None else [num(v) for v in q.zero_point_range]
        ),
    }


def derived_dict(item: DerivedTensor) -> dict[str, Any]:
    return {
        "name": item.name,
        "module": item.module,
        "attribute": item.attribute,
        "kind": item.kind,
        "method": item.method,
        "sources": list(item.sources),
        "how": item.how,
    }


def tensor_dict(info: ParamInfo, stats: Figures, grad: Figures) -> dict[str, Any]:
    """``stats``, ``grad``: its figures, rounded with the whole list's (``tensor_list``)."""
    item: dict[str, Any] = {
        "name": info.name,
        "block": info.block,
        "attribute": info.attribute,
        "kind": info.kind,
        "shape": shape_list(info.shape),
        "dtype": info.dtype,
        "device": info.device,
        "numel": info.numel,
        "bytes": info.bytes,
        "requires_grad": info.requires_grad,
        "initialized": info.initialized,
        "was_lazy": info.was_lazy,
        "persistent": info.persistent,
        "unused": info.unused,
        "tie_group": info.tie_group,
        "stats": stats_dict(info.stats, stats),
        "grad": grad_dict(info.grad, grad),
        "quantization": None if info.quantization is None else quantization_dict(info),
        "role": info.role,
        "note": info.note,
        "local_shape": shape_list(info.local_shape),
        "placements": None if info.placements is None else list(info.placements),
    }
    if info.mesh is not None:
        item["mesh"] = mesh_dict(info.mesh)
    return item


def tensor_list(infos: Sequence[ParamInfo]) -> ItemList:
    """``tensor_dict`` of each, every figure of the list rounded in one ``nums`` call."""
    stats = _rounded_flat([info.stats for info in infos], _stats_floats, 8)
    grads = _rounded_flat([info.grad for info in infos], _grad_floats, 3)

    def build(start: int, end: int) -> list[dict[str, Any]]:
        return [
            tensor_dict(infos[i], stats[8 * i : 8 * i + 8], grads[3 * i : 3 * i + 3])
            for i in range(start, end)
        ]

    return ItemList(len(infos), build)


def output_dict(out: OutputInfo) -> dict[str, Any]:
    return {"label": out.label, "shape": shape_list(out.shape), "dtype": out.dtype}


def module_dict(
    block: BlockInfo, activation: Figures, outputs: Callable[[OutputInfo], dict[str, Any]]
) -> dict[str, Any]:
    """``activation``: its figures, rounded with the whole list's (``module_list``);
    ``outputs``: the dict of one output (the JSON stream's reuses the dict of one seen before)."""
    item: dict[str, Any] = {
        "path": block.path,
        "name": block.name,
        "type": block.type,
        "type_module": block.type_module,
        "custom": block.custom,
        "source": block.source,
        "depth": block.depth,
        "parent": block.parent,
        "children": list(block.children),
        "params": block.params,
        "total_params": block.total_params,
        "calls": block.calls,
        "shared": block.shared,
        "unused": block.unused,
        "aliases": list(block.aliases),
        "output_shapes": [shape_list(out.shape) for out in block.outputs],
        "outputs": [outputs(out) for out in block.outputs],
        "activation": None
        if block.activation is None
        else {"mean": activation[0], "std": activation[1], "zero_fraction": activation[2]},
        "parameter_names": list(block.parameter_names),
        "buffer_names": list(block.buffer_names),
        "weights_used_by": block.weights_used_by,
        "derived": [derived_dict(d) for d in block.derived],
        "forward_flops": block.forward_flops,
        "backward_flops": block.backward_flops,
        "saved_bytes": block.saved_bytes,
        "self_forward_flops": block.self_forward_flops,
        "self_backward_flops": block.self_backward_flops,
        "self_saved_bytes": block.self_saved_bytes,
        "fsdp_unit": block.fsdp_unit,
        "parallel_style": block.parallel_style,
        **sharding_details(block),
    }
    if block.uninitialized_params:  # present only while lazy parameters under it have no shape
        item["uninitialized_params"] = block.uninitialized_params
    return item


def module_list(blocks: Sequence[BlockInfo], reuse_outputs: bool = False) -> ItemList:
    """``module_dict`` of each. ``reuse_outputs``: blocks that share an ``OutputInfo`` (the
    snapshot makes one per label, shape and dtype) share its dict; only for a reader that
    never changes the dicts, as the JSON stream."""
    activations = _rounded_flat([block.activation for block in blocks], _activation_floats, 3)
    outputs = _reused(output_dict) if reuse_outputs else output_dict

    def build(start: int, end: int) -> list[dict[str, Any]]:
        return [
            module_dict(blocks[i], activations[3 * i : 3 * i + 3], outputs)
            for i in range(start, end)
        ]

    return ItemList(len(blocks), build)


def _reused(make: Callable[[OutputInfo], dict[str, Any]]) -> Callable[[OutputInfo], dict[str, Any]]:
    """``make`` once per object (by identity: the snapshot holds them all to the end)."""
    made: dict[int, tuple[OutputInfo, dict[str, Any]]] = {}  # the object kept: its id stays its

    def get(out: OutputInfo) -> dict[str, Any]:
        found = made.get(id(out))
        if found is None:
            found = made[id(out)] = (out, make(out))
        return found[1]

    return get
