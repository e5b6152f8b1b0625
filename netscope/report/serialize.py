"""Snapshot (+ Profile) -> plain dict: the versioned JSON contract documented in docs/schema.md.

Every report format reads this dict, so field names live in one place. Names marked stable in
docs/schema.md never change within ``SCHEMA_VERSION``; new fields may be added.
"""

from __future__ import annotations

from typing import Any

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
from netscope.report.serialize_profile import profile_dict
from netscope.report.values import num, shape_list

SCHEMA_VERSION = 1


def stats_dict(stats: TensorStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "mean": num(stats.mean),
        "std": num(stats.std),
        "min": num(stats.min),
        "max": num(stats.max),
        "l2": num(stats.l2),
        "nan": stats.nan,
        "inf": stats.inf,
        "zero_fraction": num(stats.zero_fraction),
        "histogram": list(stats.histogram),
        "histogram_range": (
            None if stats.histogram_range is None else [num(v) for v in stats.histogram_range]
        ),
        "over": stats.over,
    }


def grad_dict(grad: GradStats | None) -> dict[str, Any] | None:
    if grad is None:
        return None
    return {
        "present": grad.present,
        "norm": num(grad.norm),
        "mean": num(grad.mean),
        "max_abs": num(grad.max_abs),
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


def tensor_dict(info: ParamInfo) -> dict[str, Any]:
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
        "stats": stats_dict(info.stats),
        "grad": grad_dict(info.grad),
        "quantization": quantization_dict(info),
        "role": info.role,
        "note": info.note,
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
        "parameters": [tensor_dict(p) for p in snapshot.parameters],
        "buffers": [tensor_dict(b) for b in snapshot.buffers],
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
