"""What the human-readable reports show about a profile, as plain tables of text."""

from __future__ import annotations

from netscope.engine.model import BlockTiming, Profile
from netscope.report.serialize_profile import cpu_over_gpu
from netscope.report.tables import Table, block_label
from netscope.report.values import (
    NOT_AVAILABLE,
    fmt_bool,
    fmt_bytes,
    fmt_count,
    fmt_flop_rate,
    fmt_flops,
    fmt_ms,
    fmt_percent,
)
from netscope.units import location

TOP_BLOCKS = 15


def device_order(profile: Profile) -> list[str]:
    """Devices in the order they were timed, plus any that only appear in block timings."""
    order = [t.device for t in profile.devices]
    order += [b.device for b in profile.blocks if b.device not in order]
    return list(dict.fromkeys(order))


def mfu_text(mfu: float | None, peak: float | None, source: str) -> str:
    """``41.2% of 989 TFLOP/s (H100 bfloat16 dense)``; n/a without a peak."""
    if mfu is None or peak is None:
        return NOT_AVAILABLE
    return f"{fmt_percent(mfu)} of {fmt_flop_rate(peak)}" + (f" ({source})" if source else "")


def timing_table(profile: Profile) -> Table:
    rates = {r.device: r for r in profile.rates}
    rows = []
    for t in profile.devices:
        rate = rates.get(t.device)
        achieved = rate.achieved_flops_per_s if rate else None
        mfu = mfu_text(rate.mfu, rate.peak_flops_per_s, rate.peak_source) if rate else None
        rows.append(
            [
                t.device,
                fmt_ms(t.median_ms),
                fmt_ms(t.p10_ms),
                fmt_ms(t.p90_ms),
                fmt_ms(t.min_ms),
                fmt_ms(t.max_ms),
                str(t.runs),
                t.noise or "steady",
                fmt_flop_rate(achieved),
                mfu or NOT_AVAILABLE,
            ]
        )
    ratio = cpu_over_gpu(profile)
    note = f"Step: {profile.step}." if profile.step else ""
    if ratio is not None:
        note += f" CPU median / GPU median: {ratio:.3g}x."
    if profile.flops_per_step is not None:
        note += (
            f" {fmt_flops(profile.flops_per_step)} per step, over the median time; MFU against "
            "the device's dense peak (n/a where netscope has none: pass --peak-tflops)."
        )
    headers = ["Device", "Median", "p10", "p90", "Min", "Max", "Runs", "Trust", "FLOP/s", "MFU"]
    return Table("Step time per device", headers, rows, note=note.strip(), code={0})


def top_block_paths(profile: Profile, limit: int = TOP_BLOCKS) -> list[str]:
    """Block paths by their largest self time on any device, biggest first (root excluded)."""
    best: dict[str, float] = {}
    for timing in profile.blocks:
        if timing.path and timing.self_ms is not None:
            best[timing.path] = max(best.get(timing.path, 0.0), timing.self_ms)
    return sorted(best, key=lambda path: -best[path])[:limit]


def block_time_table(profile: Profile) -> Table:
    devices = device_order(profile)
    by_key: dict[tuple[str, str], BlockTiming] = {(b.path, b.device): b for b in profile.blocks}
    rows = []
    for path in top_block_paths(profile):
        row = [block_label(path)]
        for device in devices:
            timing = by_key.get((path, device))
            row += [fmt_ms(timing.self_ms if timing else None)]
            row += [fmt_ms(timing.inclusive_ms if timing else None)]
        rows.append(row)
    headers = ["Block"]
    for device in devices:
        headers += [f"{device} self", f"{device} inclusive"]
    note = f"Top {TOP_BLOCKS} blocks by self time, from the hooked pass (not the headline timing)."
    return Table("Time per block", headers, rows, note=note if rows else "", code={0})


def copies_table(profile: Profile) -> Table:
    rows = [
        [
            c.direction,
            fmt_bytes(c.bytes),
            str(c.count),
            c.dtype,
            block_label(c.block),
            location(c.location),
            fmt_bool(c.pinned),
            fmt_bool(c.non_blocking),
            "many small copies: batch them into one" if c.many_small else "",
        ]
        for c in sorted(profile.copies, key=lambda c: (-c.bytes, -c.count))
    ]
    headers = ["Direction", "Bytes", "Count", "Dtype", "Block", "Where", "Pinned"]
    headers += ["Non-blocking", "Note"]
    note = f"{fmt_count(profile.copy_count)} copies, {fmt_bytes(profile.copy_bytes)} per step."
    return Table("Host-device copies", headers, rows, note=note, code={4, 5})


def syncs_table(profile: Profile) -> Table:
    rows = [
        [
            s.op,
            str(s.count),
            block_label(s.block),
            location(s.location),
            s.device,
            fmt_ms(s.stall_ms) if s.stall_ms is not None else "would sync on CUDA",
            s.reason,
        ]
        for s in sorted(profile.syncs, key=lambda s: -s.count)
    ]
    headers = ["Operation", "Count", "Block", "Where", "Device", "Host wait", "Why"]
    note = f"{fmt_count(profile.sync_count)} sync points per step."
    return Table("Sync points", headers, rows, note=note, code={0, 2, 3})


def gil_table(profile: Profile) -> Table:
    gil = profile.gil
    if gil is None:
        return Table("Interpreter lock", [], [], empty="Not measured.")
    rows = [
        [
            fmt_ms(gil.p50_ms),
            fmt_ms(gil.p99_ms),
            fmt_ms(gil.max_ms),
            fmt_percent(gil.late_share),
            fmt_count(gil.beats),
        ]
    ]
    note = (
        "How late a heartbeat thread got to run while the step ran: large values mean the step "
        "held the interpreter lock (Python work or a blocking sync) and starved other threads."
    )
    headers = ["p50 late", "p99 late", "Max late", "Late > 1 ms", "Beats"]
    return Table("Interpreter lock", headers, rows, note=note)


def profile_tables(profile: Profile) -> list[Table]:
    return [
        timing_table(profile),
        block_time_table(profile),
        copies_table(profile),
        syncs_table(profile),
        gil_table(profile),
    ]
