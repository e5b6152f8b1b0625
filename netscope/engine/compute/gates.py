"""``netscope check``'s memory gates: ``--max-peak-memory`` and ``--fit``, with the biggest
contributors named when the step does not fit."""

from __future__ import annotations

from netscope.engine.model import Profile, Snapshot
from netscope.engine.plan.describe import devices_label, layout_label, per_device_parts

TOP_BLOCKS = 3


def size(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def contributors(snapshot: Snapshot) -> str:
    """``optimizer state 512 GiB, parameters 128 GiB...; blocks saving most: a (1 GiB)...``"""
    memory = snapshot.memory
    if memory is None:
        return ""
    parts = [
        ("parameters", memory.params_bytes), ("gradients", memory.grads_bytes),
        ("optimizer state", memory.optimizer_bytes),
        ("saved activations", memory.activations_bytes), ("buffers", memory.buffers_bytes),
    ]  # fmt: skip
    ranked = sorted(((n, b) for n, b in parts if b), key=lambda item: -item[1])
    text = ", ".join(f"{name} {size(b)}" for name, b in ranked)
    blocks = [
        b for b in snapshot.blocks if b.saved_bytes and b.path and not b.children
    ]  # leaves: the blocks that hold the saved tensors
    blocks.sort(key=lambda b: -(b.saved_bytes or 0))
    if blocks:
        text += "; blocks saving most: " + ", ".join(
            f"{b.path} ({size(b.saved_bytes)})" for b in blocks[:TOP_BLOCKS]
        )
    return text


def step_of(snapshot: Snapshot) -> str:
    """What the memory section describes: the snapshot's own step."""
    memory = snapshot.memory
    if memory is not None and memory.optimizer:
        return f"train step, {memory.optimizer}"
    if memory is not None and memory.grads_bytes is not None:
        return "example forward + backward for gradients"
    return "example forward"


def memory_totals(snapshot: Snapshot, max_peak: int | None) -> list[str]:
    """The lines check prints among its totals."""
    memory = snapshot.memory
    if memory is None:
        return ["step peak memory: n/a (no example forward ran)"] if max_peak is not None else []
    limit = "no limit" if max_peak is None else f"limit {size(max_peak)}"
    lines = [
        f"step peak memory ({step_of(snapshot)}): {size(memory.peak_bytes)}, {memory.how}, "
        f"at {memory.peak_at} ({limit})"
    ]
    fit = snapshot.fit
    if fit is not None:
        verdict = "fits" if fit.fits else "does not fit"
        batch = "n/a" if fit.max_batch is None else str(fit.max_batch)
        lines.append(
            f"{fit.step} {verdict} {devices_label(fit)}: needs {size(fit.needed_bytes)} of "
            f"{size(fit.capacity_bytes)} usable, margin {size(fit.margin_bytes)}; largest "
            f"batch {batch}"
        )
        if fit.per_device is not None:
            least = "none found" if fit.min_devices is None else str(fit.min_devices)
            lines.append(
                f"per GPU ({layout_label(fit)}): {_fit_contributors(snapshot)}; peak at "
                f"{fit.per_device.peak_at}; fewest GPUs that fit: {least}"
            )
        if fit.checkpoint_code:
            lines.append("checkpointed blocks, as code to paste:")
            lines += [f"    {line}" for line in fit.checkpoint_code.splitlines()]
    return lines


def _fit_contributors(snapshot: Snapshot) -> str:
    """A planned fit's per-GPU parts, biggest first; the one-GPU fit's blocks otherwise."""
    fit = snapshot.fit
    parts = [] if fit is None else per_device_parts(fit)
    if not parts:
        return contributors(snapshot)
    return ", ".join(f"{name} {size(value)}" for name, value in parts[:3]) + " per GPU"


def memory_violations(snapshot: Snapshot, max_peak: int | None) -> list[str]:
    memory, fit = snapshot.memory, snapshot.fit
    found = []
    if max_peak is not None:
        if memory is None or memory.peak_bytes is None:
            found.append("step peak memory not available: --max-peak-memory cannot be checked")
        elif memory.peak_bytes > max_peak:
            found.append(
                f"step peak memory {size(memory.peak_bytes)} > --max-peak-memory "
                f"{size(max_peak)} (at {memory.peak_at}); biggest: {contributors(snapshot)}"
            )
    if fit is not None and not fit.fits:
        found.append(
            f"{fit.step} does not fit {devices_label(fit)}: needs {size(fit.needed_bytes)}, usable "
            f"{size(fit.capacity_bytes)}, short by {size(-fit.margin_bytes)}; biggest: "
            f"{_fit_contributors(snapshot)}"
        )
    return found


def rate_lines(profile: Profile) -> list[str]:
    """``FLOPs per step 1.2 GFLOP; cpu 3.4 GFLOP/s, MFU n/a (no peak for cpu: --peak-tflops)``"""
    if profile.flops_per_step is None:
        return ["FLOPs per step: n/a (not counted for this step)"] if profile.rates else []
    parts = []
    for rate in profile.rates:
        achieved = "n/a" if rate.achieved_flops_per_s is None else flops(rate.achieved_flops_per_s)
        mfu = (
            f"MFU {rate.mfu * 100:.1f} % of {rate.peak_source}"
            if rate.mfu is not None
            else f"MFU n/a (no peak for {rate.device}: --peak-tflops)"
        )
        parts.append(f"{rate.device} {achieved}/s, {mfu}")
    return [f"FLOPs per step: {flops(profile.flops_per_step)}; " + "; ".join(parts)]


def flops(n: float) -> str:
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} FLOP"
