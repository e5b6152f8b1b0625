"""Snapshot (+ Profile) -> plain dict: the versioned JSON contract documented in docs/schema.md.

Every report format reads this dict, so field names live in one place. Names marked stable in
docs/schema.md never change within ``SCHEMA_VERSION``; new fields may be added.
"""

from __future__ import annotations

from typing import Any

from netscope import __version__
from netscope.engine.model import CheckpointDiff, Profile, Snapshot
from netscope.report.serialize_compute import compute_dict, fit_dict, memory_dict
from netscope.report.serialize_items import ItemList, derived_dict, module_list, tensor_list
from netscope.report.serialize_profile import profile_dict
from netscope.report.values import shape_list

SCHEMA_VERSION = 1


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


def model_dict(snapshot: Snapshot, streamed: bool = False) -> dict[str, Any]:
    """``streamed``: modules, parameters and buffers left as ``ItemList``s for the JSON stream."""
    lists: dict[str, ItemList] = {
        "modules": module_list(snapshot.blocks, reuse_outputs=streamed),
        "parameters": tensor_list(snapshot.parameters),
        "buffers": tensor_list(snapshot.buffers),
    }
    items = lists if streamed else {key: value.whole() for key, value in lists.items()}
    lazy = {"uninitialized_params": snapshot.uninitialized_params}
    return {
        "class": snapshot.model_class,
        "source": snapshot.source,
        "total_params": snapshot.total_params,
        "trainable_params": snapshot.trainable_params,
        "total_bytes": snapshot.total_bytes,
        **(lazy if snapshot.uninitialized_params else {}),
        **items,
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


def report_dict(
    snapshot: Snapshot, profile: Profile | None = None, streamed: bool = False
) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (schema in docs/schema.md); ``streamed``: for
    ``json_report``'s stream alone, the model's long lists as ``ItemList``s (``model_dict``)."""
    forward = snapshot.forward
    return {
        "schema_version": SCHEMA_VERSION,
        "netscope_version": __version__,
        "kind": snapshot.kind,
        "target": snapshot.target,
        "device": snapshot.device,
        "devices": list(snapshot.devices),
        "model": model_dict(snapshot, streamed),
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
