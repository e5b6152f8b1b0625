"""Profile -> plain dict: the ``profile`` section of the JSON contract (docs/schema.md)."""

from __future__ import annotations

from typing import Any

from netscope.engine.model import (
    ComputeRate,
    CopyFinding,
    GilReport,
    Profile,
    SyncFinding,
    SystemSample,
)
from netscope.report.values import num


def copy_dict(copy: CopyFinding) -> dict[str, Any]:
    return {
        "direction": copy.direction,
        "bytes": copy.bytes,
        "count": copy.count,
        "dtype": copy.dtype,
        "pinned": copy.pinned,
        "non_blocking": copy.non_blocking,
        "block": copy.block,
        "location": copy.location,
        "many_small": copy.many_small,
    }


def sync_dict(sync: SyncFinding) -> dict[str, Any]:
    return {
        "op": sync.op,
        "reason": sync.reason,
        "count": sync.count,
        "block": sync.block,
        "location": sync.location,
        "stall_ms": num(sync.stall_ms),
        "device": sync.device,
        "measured": sync.stall_ms is not None,
    }


def gil_dict(gil: GilReport | None) -> dict[str, Any] | None:
    if gil is None:
        return None
    return {
        "p50_ms": num(gil.p50_ms),
        "p99_ms": num(gil.p99_ms),
        "max_ms": num(gil.max_ms),
        "late_share": num(gil.late_share),
        "beats": gil.beats,
    }


def system_dict(system: SystemSample | None) -> dict[str, Any] | None:
    if system is None:
        return None
    return {
        "time_s": num(system.time_s),
        "process_cpu_percent": num(system.process_cpu_percent),
        "rss_bytes": system.rss_bytes,
        "per_core_percent": [num(v) for v in system.per_core_percent],
        "gpus": [
            {
                "index": g.index,
                "name": g.name,
                "utilization_percent": num(g.utilization_percent),
                "memory_used_bytes": g.memory_used_bytes,
                "memory_total_bytes": g.memory_total_bytes,
                "pcie_tx_kbps": num(g.pcie_tx_kbps),
                "pcie_rx_kbps": num(g.pcie_rx_kbps),
                "power_watts": num(g.power_watts),
                "temperature_c": num(g.temperature_c),
            }
            for g in system.gpus
        ],
    }


def block_timings(profile: Profile) -> list[dict[str, Any]]:
    """One entry per block path, in first-seen order, with per-device times keyed by device."""
    rows: dict[str, dict[str, Any]] = {}
    for timing in profile.blocks:
        row = rows.setdefault(
            timing.path, {"path": timing.path, "inclusive_ms": {}, "self_ms": {}, "calls": {}}
        )
        row["inclusive_ms"][timing.device] = num(timing.inclusive_ms)
        row["self_ms"][timing.device] = num(timing.self_ms)
        row["calls"][timing.device] = timing.calls
    return list(rows.values())


def cpu_over_gpu(profile: Profile) -> float | None:
    """Median CPU step time over the first CUDA device's, when both ran."""
    medians = {t.device: t.median_ms for t in profile.devices}
    gpu = next((d for d in medians if d.startswith("cuda")), None)
    if "cpu" not in medians or gpu is None or not medians[gpu]:
        return None
    return num(medians["cpu"] / medians[gpu], 4)


def headline_rate(profile: Profile) -> ComputeRate | None:
    """The rate a one-line summary shows: the first GPU's, else the first device's."""
    gpu = next((r for r in profile.rates if r.device.startswith("cuda")), None)
    return gpu or (profile.rates[0] if profile.rates else None)


def rate_fields(rate: ComputeRate | None) -> dict[str, Any]:
    """A device's achieved FLOP/s, its dense peak and MFU (each null when not known)."""
    return {
        "achieved_flops_per_s": num(rate.achieved_flops_per_s) if rate else None,
        "peak_flops_per_s": num(rate.peak_flops_per_s) if rate else None,
        "mfu": num(rate.mfu) if rate else None,
        "peak_source": (rate.peak_source or None) if rate else None,
    }


def profile_dict(profile: Profile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    rates = {r.device: r for r in profile.rates}
    headline = headline_rate(profile)
    return {
        "step": profile.step,
        "flops_per_step": profile.flops_per_step,
        "achieved_flops_per_s": num(headline.achieved_flops_per_s) if headline else None,
        "mfu": num(headline.mfu) if headline else None,
        "devices": {
            t.device: {
                "median_ms": num(t.median_ms),
                "p10_ms": num(t.p10_ms),
                "p90_ms": num(t.p90_ms),
                "min_ms": num(t.min_ms),
                "max_ms": num(t.max_ms),
                "runs": t.runs,
                "samples_ms": [num(s) for s in t.samples_ms],
                "spread_pct": num(t.spread_pct),
                "other_cpu_pct": num(t.other_cpu_pct),
                "noise": t.noise,
                **rate_fields(rates.get(t.device)),
            }
            for t in profile.devices
        },
        "cpu_over_gpu": cpu_over_gpu(profile),
        "blocks": block_timings(profile),
        "copies": [copy_dict(c) for c in profile.copies],
        "syncs": [sync_dict(s) for s in profile.syncs],
        "totals": {
            "copies": profile.copy_count,
            "copy_bytes": profile.copy_bytes,
            "syncs": profile.sync_count,
        },
        "gil": gil_dict(profile.gil),
        "system": system_dict(profile.system),
    }
