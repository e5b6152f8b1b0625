"""What ``netscope check`` prints: the step's totals against their limits, each violation (the
engine's typed ``Violation``) with the place or the biggest contributors named, then each
finding within limits."""

from __future__ import annotations

from collections.abc import Sequence

from netscope.engine.compute.gates import FIT_NOT_AVAILABLE, memory_violations
from netscope.engine.compute.mfu import step_flops
from netscope.engine.model import CopyFinding, Profile, Snapshot, SyncFinding, Violation
from netscope.engine.plan.describe import devices_label, layout_label, per_device_parts
from netscope.engine.profiler.check import Limits, within_limits
from netscope.engine.self_figures import self_saved_bytes, top_blocks
from netscope.engine.step_memory import same_step_as_measured
from netscope.units import flop_rate, flops, fraction, size

TOP_BLOCKS = 3
OPTION = {
    "syncs": "--max-syncs",
    "copies": "--max-copies",
    "bytes copied": "--max-copy-bytes",
    "peak memory": "--max-peak-memory",
    "fit": "--fit",
}


def _where(finding: SyncFinding | CopyFinding) -> str:
    return f"{finding.location or 'unknown location'} (block {finding.block or '(root)'})"


def found_text(finding: SyncFinding | CopyFinding) -> str:
    """A finding within limits: ``m.py:7 (block head): .item() x2 per step [sync]``."""
    if isinstance(finding, SyncFinding):
        return f"{_where(finding)}: {finding.op} x{finding.count} per step [sync]"
    what = f"{finding.direction} copy x{finding.count}, {finding.bytes} bytes"
    return f"{_where(finding)}: {what} per step [copy]"


def violation_text(violation: Violation, snapshot: Snapshot | None = None) -> str:
    """One line for one violation; the memory gates name the step's biggest contributors."""
    finding, gate = violation.finding, violation.gate
    label = f"{gate} {violation.total} > {OPTION[gate]} {violation.limit}"
    if isinstance(finding, SyncFinding):
        return f"{_where(finding)}: {finding.op} x{finding.count} per step [{label}]"
    if isinstance(finding, CopyFinding):
        what = (
            f"{finding.direction} copy x{finding.count}"
            if gate == "copies"
            else f"{finding.direction} {finding.bytes} bytes"
        )
        return f"{_where(finding)}: {what} per step [{label}]"
    if gate == "peak memory":
        if violation.total is None:
            return "step peak memory not available: --max-peak-memory cannot be checked"
        at = snapshot.memory.peak_at if snapshot is not None and snapshot.memory else None
        return (
            f"step peak memory {size(violation.total)} > --max-peak-memory "
            f"{size(violation.limit)} (at {at}); biggest: {contributors(snapshot)}"
            f"{_one_device_note(snapshot)}"
        )
    fit = snapshot.fit if snapshot is not None else None
    if violation.total is None and snapshot is not None:
        why = [f.message for f in snapshot.findings if f.code == FIT_NOT_AVAILABLE]
        return why[0] if why else "--fit: not available"
    if snapshot is None or fit is None:  # pragma: no cover - a fit violation has its verdict
        return f"the step does not fit: needs {size(violation.total)}"
    return (
        f"{fit.step} does not fit {devices_label(fit)}: needs {size(fit.needed_bytes)}, usable "
        f"{size(fit.capacity_bytes)}, short by {size(-fit.margin_bytes)}; biggest: "
        f"{_fit_contributors(snapshot)}"
    )


def _one_device_note(snapshot: Snapshot | None) -> str:
    """--max-peak-memory gates the step as measured, on one device; a planned layout's step is
    another (sharded, split, checkpointed or mixed): say which figure the limit was held to."""
    fit = snapshot.fit if snapshot is not None else None
    if fit is None or same_step_as_measured(fit):
        return ""
    return (
        f". This is the step on one device, as measured; the plan ({layout_label(fit)}) needs "
        f"{size(fit.needed_bytes)} per GPU, which the fit verdict gates (a budget per GPU: "
        f"--fit {fit.devices}x<size>)"
    )


def contributors(snapshot: Snapshot | None) -> str:
    """``optimizer state 512 GiB, parameters 128 GiB...; blocks saving most: a (1 GiB)...``"""
    memory = snapshot.memory if snapshot is not None else None
    if snapshot is None or memory is None:
        return ""
    parts = [
        ("parameters", memory.params_bytes), ("gradients", memory.grads_bytes),
        ("optimizer state", memory.optimizer_bytes),
        ("saved activations", memory.activations_bytes), ("buffers", memory.buffers_bytes),
    ]  # fmt: skip
    ranked = sorted(((n, b) for n, b in parts if b), key=lambda item: -item[1])
    text = ", ".join(f"{name} {size(b)}" for name, b in ranked)
    blocks = top_blocks(snapshot, self_saved_bytes, TOP_BLOCKS)
    if blocks:
        text += "; blocks saving most: " + ", ".join(
            f"{block.path or '(root)'} ({size(saved)})" for block, saved in blocks
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


def rate_lines(profile: Profile) -> list[str]:
    """``FLOPs per step 1.2 GFLOP; cpu 3.4 GFLOP/s, MFU n/a (no peak for cpu: --peak-tflops)``"""
    if profile.flops_per_step is None:
        return ["FLOPs per step: n/a (not counted for this step)"] if profile.rates else []
    parts = []
    for rate in profile.rates:
        mfu = (
            f"MFU {fraction(rate.mfu)} of {rate.peak_source}"
            if rate.mfu is not None
            else f"MFU n/a (no peak for {rate.device}: --peak-tflops)"
        )
        parts.append(f"{rate.device} {flop_rate(rate.achieved_flops_per_s)}, {mfu}")
    return [f"FLOPs per step: {flops(profile.flops_per_step)}; " + "; ".join(parts)]


def _limit(value: int | None) -> str:
    return "no limit" if value is None else f"limit {value}"


def verdict_line(violations: int, found: bool, baseline_failed: bool = False) -> str:
    """The limits' verdict; OK only when the baseline's gates (printed below) passed too, so a
    reader never sees OK above a failed baseline."""
    if violations:
        return f"FAILED: {violations} violation(s)"
    within = "within limits" + (", found:" if found else "")
    return f"FAILED against the baseline (below); {within}" if baseline_failed else f"OK: {within}"


def format_verdict(
    profile: Profile,
    limits: Limits,
    violations: Sequence[Violation],
    snapshot: Snapshot | None = None,
    max_peak: int | None = None,
    baseline_failed: bool = False,
) -> str:
    """The text ``netscope check`` prints: totals against limits (with the snapshot: FLOP/s and
    the step's memory too), each violation, then each finding within limits (on a pass, every
    sync and copy found)."""
    timing = ", ".join(f"{t.device} {t.median_ms:.3f} ms" for t in profile.devices)
    totals = [*rate_lines(profile), *memory_totals(snapshot, max_peak)] if snapshot else []
    lines = [
        f"netscope check: {profile.step or 'step'}" + (f" (median {timing})" if timing else ""),
        f"  sync points per step: {profile.sync_count} ({_limit(limits.max_syncs)})",
        f"  host-device copies per step: {profile.copy_count} ({_limit(limits.max_copies)})",
        f"  bytes copied per step: {profile.copy_bytes} ({_limit(limits.max_copy_bytes)})",
        *(f"  {line}" for line in totals),
    ]
    lines += [f"  timing on {t.device} is {t.noise}" for t in profile.devices if t.noise]
    if any(f.stall_ms is None for f in profile.syncs):
        lines.append("  syncs found on the CPU are where the step would wait on CUDA")
    found = [found_text(f) for f in within_limits(profile, limits)]
    lines.append(verdict_line(len(violations), bool(found), baseline_failed))
    if violations:
        lines.extend(f"  {violation_text(v, snapshot)}" for v in violations)
        if found:
            lines.append("found within limits:")
    lines.extend(f"  {line}" for line in found)
    return "\n".join(lines)


NOT_ON_META = (
    "on meta nothing runs with data: FLOPs, memory and fit are gated from the counted step "
    "replayed on meta (estimated); syncs, copies and timing are not measured"
)


def meta_verdict(
    snapshot: Snapshot, train: bool, max_peak: int | None, baseline_failed: bool = False
) -> tuple[str, bool]:
    """``netscope check --device meta``: the text and whether it failed, without a profile."""
    memory = snapshot.memory
    flops_per_step = step_flops(snapshot, train)
    what = "train step" if train else "example forward"
    counted = "n/a (not counted)" if flops_per_step is None else flops(flops_per_step)
    violations = [violation_text(v, snapshot) for v in memory_violations(snapshot, max_peak)]
    if memory is None and max_peak is None and snapshot.fit is None:
        violations.append("no example forward ran on meta: nothing to check")
    lines = [
        f"netscope check: {what} on meta (not profiled)",
        f"  {NOT_ON_META}",
        f"  FLOPs per step: {counted} (FLOP/s and MFU need a measured step)",
        *(f"  {line}" for line in memory_totals(snapshot, max_peak)),
    ]
    lines.append(verdict_line(len(violations), False, baseline_failed))
    lines.extend(f"  {v}" for v in violations)
    return "\n".join(lines), bool(violations)
