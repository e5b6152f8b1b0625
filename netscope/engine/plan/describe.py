"""Words for a planned fit, shared by ``netscope check``, the reports and the app."""

from __future__ import annotations

from netscope.engine.model import FitVerdict

PARTS = (
    ("params_bytes", "parameters"),
    ("grads_bytes", "gradients"),
    ("optimizer_bytes", "optimizer state"),
    ("activations_bytes", "activations"),
    ("comm_buffers_bytes", "comm buffers"),
)


def devices_label(fit: FitVerdict) -> str:
    """``8 x H100``, or ``H100`` for one."""
    return f"{fit.devices} x {fit.device}" if fit.devices > 1 else fit.device


def layout_label(fit: FitVerdict) -> str:
    """``8 x H100, fsdp (5 units + root), bf16-mixed, 4 blocks checkpointed``."""
    parts = [devices_label(fit), fit.shard]
    if fit.shard == "fsdp":
        parts[-1] = f"fsdp ({len(fit.units)} units + root)"
    if fit.tp > 1:
        parts.append(f"tp {fit.tp}")
    parts.append(fit.precision)
    if fit.checkpoint:
        parts.append(f"{len(fit.checkpoint)} blocks checkpointed")
    return ", ".join(parts)


def per_device_parts(fit: FitVerdict) -> list[tuple[str, int]]:
    """One GPU's parts, biggest first (those not available left out)."""
    share = fit.per_device
    if share is None:
        return []
    found = [(label, getattr(share, name)) for name, label in PARTS]
    return sorted(((k, v) for k, v in found if v is not None), key=lambda kv: -kv[1])
