"""Snapshot (+ Profile) -> plain dict: the versioned JSON contract documented in docs/schema.md.

Every report format reads this dict, so field names live in one place. Names marked stable in
docs/schema.md never change within ``SCHEMA_VERSION``; new fields may be added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from netscope import __version__
from netscope.engine.model import (
    BlockInfo,
    CheckpointDiff,
    DerivedTensor,
    GradStats,
    ParamInfo,
    Profile,
    Snapshot,
    TensorStats,
)
from netscope.report.serialize_compute import compute_dict, fit_dict, memory_dict
from netscope.report.serialize_profile import profile_dict
from netscope.report.serialize_sharding import mesh_dict, sharding_details
from netscope.report.values import num, nums, shape_list

SCHEMA_VERSION = 1


def _stats_floats(stats: TensorStats) -> tuple[float | None, ...]:
    low, high = stats.histogram_range or (None, None)
    return (stats.mean, stats.std, stats.min, stats.max, stats.l2, stats.zero_fraction, low, high)


def _grad_floats(grad: GradStats) -> tuple[float | None, ...]:
    return (grad.norm, grad.mean, grad.max_abs)


def stats_dict(
    stats: TensorStats | None, rounded: Sequence[float | None] | None = None
) -> dict[str, Any] | None:
    """``rounded``: ``_stats_floats`` already through ``num`` (``tensor_dicts`` does many)."""
    if stats is None:
        return None
    mean, std, minimum, maximum, l2, zero_fraction, range_low, range_high = (
        [num(v) for v in _stats_floats(stats)] if rounded is None else rounded
    )
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


def grad_dict(
    grad: GradStats | None, rounded: Sequence[float | None] | None = None
) -> dict[str, Any] | None:
    if grad is None:
        return None
    norm, mean, max_abs = [num(v) for v in _grad_floats(grad)] if rounded is None else rounded
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


def tensor_dicts(infos: Sequence[ParamInfo]) -> list[dict[str, Any]]:
    """``tensor_dict`` of each, with every figure of the list rounded in one ``nums`` call."""
    stats = _rounded_rows([info.stats for info in infos], _stats_floats)
    grads = _rounded_rows([info.grad for info in infos], _grad_floats)
    return [tensor_dict(*item) for item in zip(infos, stats, grads, strict=True)]


_Row = TypeVar("_Row")


def _rounded_rows(
    items: Sequence[_Row | None], floats_of: Callable[[_Row], tuple[float | None, ...]]
) -> list[Sequence[float | None] | None]:
    """Each item's floats through ``num``, all items' at once; None for a missing item."""
    flat: list[float | None] = []
    widths: list[int] = []
    for item in items:
        floats = () if item is None else floats_of(item)
        flat.extend(floats)
        widths.append(len(floats))
    rounded = nums(flat)
    out: list[Sequence[float | None] | None] = []
    start = 0
    for item, width in zip(items, widths, strict=True):
        out.append(None if item is None else rounded[start : start + width])
        start += width
    return out


def tensor_dict(
    info: ParamInfo,
    stats: Sequence[float | None] | None = None,
    grad: Sequence[float | None] | None = None,
) -> dict[str, Any]:
    """``stats``, ``grad``: the figures already rounded, else ``num`` here."""
    return {
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
        "quantization": quantization_dict(info),
        "role": info.role,
        "note": info.note,
        "local_shape": shape_list(info.local_shape),
        "placements": None if info.placements is None else list(info.placements),
        **({"mesh": mesh_dict(info.mesh)} if info.mesh is not None else {}),
    }


def module_dict(block: BlockInfo) -> dict[str, Any]:
    activation = block.activation
    return {
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
        "outputs": [
            {"label": out.label, "shape": shape_list(out.shape), "dtype": out.dtype}
            for out in block.outputs
        ],
        "activation": None
        if activation is None
        else {
            "mean": num(activation.mean),
            "std": num(activation.std),
            "zero_fraction": num(activation.zero_fraction),
        },
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


def checkpoint_dict(diff: CheckpointDiff | None) -> dict[str, Any] | None:
    if diff is None:
        return None
    return {
        "path": diff.path,
        "loaded": diff.loaded,
        "clean": diff.clean,
        "missing": list(diff.missing),
        "unexpected": list(diff.unexpected),
        "mismatched": [
            {
                "key": m.key,
                "kind": m.kind,
                "model_shape": shape_list(m.model_shape),
                "checkpoint_shape": shape_list(m.checkpoint_shape),
                "model_dtype": m.model_dtype,
                "checkpoint_dtype": m.checkpoint_dtype,
            }
            for m in diff.mismatched
        ],
        "covered_by_tie": [
            {"key": key, "stored_as": stored} for key, stored in diff.covered_by_tie
        ],
        "stripped_prefix": diff.stripped_prefix,
        "notes": list(diff.notes),
    }


def model_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "class": snapshot.model_class,
        "source": snapshot.source,
        "total_params": snapshot.total_params,
        "trainable_params": snapshot.trainable_params,
        "total_bytes": snapshot.total_bytes,
        "modules": [module_dict(b) for b in snapshot.blocks],
        "parameters": tensor_dicts(snapshot.parameters),
        "buffers": tensor_dicts(snapshot.buffers),
        "ties": [list(group.names) for group in snapshot.ties],
        "tie_groups": [
            {"names": list(g.names), "numel": g.numel, "how": g.how, "note": g.note}
            for g in snapshot.ties
        ],
        "unregistered_tensors": [
            {
                "module": u.module,
                "attribute": u.attribute,
                "shape": shape_list(u.shape),
                "dtype": u.dtype,
                "device": u.device,
            }
            for u in snapshot.unregistered
        ],
        "derived_tensors": [derived_dict(d) for d in snapshot.derived],
    }


def report_dict(snapshot: Snapshot, profile: Profile | None = None) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (schema in docs/schema.md)."""
    forward = snapshot.forward
    return {
        "schema_version": SCHEMA_VERSION,
        "netscope_version": __version__,
        "kind": snapshot.kind,
        "target": snapshot.target,
        "device": snapshot.device,
        "devices": list(snapshot.devices),
        "model": model_dict(snapshot),
        "forward": {
            "ran": forward.ran,
            "input_summary": forward.input_summary,
            "backward_ran": forward.backward_ran,
            "loss_source": forward.loss_source,
            "note": forward.note,
        },
        "compute": compute_dict(snapshot.compute),
        "memory": memory_dict(snapshot.memory),
        "fit": fit_dict(snapshot.fit),
        "checkpoint": checkpoint_dict(snapshot.checkpoint),
        "findings": [
            {
                "severity": f.severity,
                "code": f.code,
                "message": f.message,
                "subject": f.subject,
                "location": f.location,
            }
            for f in snapshot.findings
        ],
        "profile": profile_dict(profile),
    }
