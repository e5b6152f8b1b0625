"""The example step's FLOPs, memory and ``--fit`` verdict -> plain dicts: the report's top-level
``compute``, ``memory`` and ``fit`` (docs/schema.md). ``None`` (no forward ran; no --fit) is
``null``, never a zero.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from netscope.engine.model import Compute, FitVerdict, Memory


def compute_dict(compute: Compute | None) -> dict[str, Any] | None:
    if compute is None:
        return None
    return {
        "forward_flops": compute.forward_flops,
        "backward_flops": compute.backward_flops,
        "attention": compute.attention,
        "uncounted_ops": [{"op": u.op, "count": u.count} for u in compute.uncounted_ops],
    }


def memory_dict(memory: Memory | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    return {
        "params_bytes": memory.params_bytes,
        "grads_bytes": memory.grads_bytes,
        "optimizer_bytes": memory.optimizer_bytes,
        "activations_bytes": memory.activations_bytes,
        "peak_bytes": memory.peak_bytes,
        "peak_at": memory.peak_at,
        "how": memory.how,
        "device": memory.device,
        "buffers_bytes": memory.buffers_bytes,
        "optimizer": memory.optimizer,
        "note": memory.note,
        "replay_peak_bytes": memory.replay_peak_bytes,
        "replay_differs": memory.replay_differs,
    }


def fit_dict(fit: FitVerdict | None) -> dict[str, Any] | None:
    if fit is None:
        return None
    return {
        "device": fit.device,
        "capacity_bytes": fit.capacity_bytes,
        "needed_bytes": fit.needed_bytes,
        "fits": fit.fits,
        "margin_bytes": fit.margin_bytes,
        "max_batch": fit.max_batch,
        "step": fit.step,
        "context_bytes": fit.context_bytes,
        "batch": fit.batch,
        "note": fit.note,
        "devices": fit.devices,
        "shard": fit.shard,
        "precision": fit.precision,
        "tp": fit.tp,
        "units": list(fit.units),
        "checkpoint": list(fit.checkpoint),
        "recompute_flops": fit.recompute_flops,
        "per_device": None if fit.per_device is None else asdict(fit.per_device),
        "min_devices": fit.min_devices,
        "checkpoint_code": fit.checkpoint_code,
    }
