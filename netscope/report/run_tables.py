"""What the human-readable run reports show, as plain tables (Markdown and HTML share them)."""

from __future__ import annotations

from netscope.engine.model import RunReport
from netscope.report.compile_tables import compile_summary, compile_tables
from netscope.report.profile_tables import mfu_text
from netscope.report.rank_tables import rank_tables, ranks_summary
from netscope.report.tables import Table, block_label
from netscope.report.values import (
    NOT_AVAILABLE,
    fmt_bytes,
    fmt_count,
    fmt_flop_rate,
    fmt_flops,
    fmt_ms,
    fmt_percent,
)
from netscope.units import location, number


def run_title(run: RunReport) -> str:
    return "netscope run: " + " ".join(run.argv)


def run_state_text(run: RunReport) -> str:
    """``running``, ``finished (exit 0)``, ``crashed at train.py:12 (exit 1)``, ``stopped``."""
    if run.state in ("starting", "running"):
        return run.state
    code = f"exit {run.exit_code}"
    if run.state == "crashed":
        where = f" at {run.error.location}" if run.error and run.error.location else ""
        return f"crashed{where} ({code})"
    return f"{run.state} ({code})"


def run_summary(run: RunReport) -> list[tuple[str, str]]:
    rows = [("Command", " ".join(run.argv)), ("State", run_state_text(run))]
    if run.error is not None:
        rows.append(("Error", f"{run.error.type}: {run.error.message}"))
    rows.append(("Steps", f"{fmt_count(run.steps)} (a step ends at {run.step_boundary})"
                 if run.step_boundary else fmt_count(run.steps)))  # fmt: skip
    if run.step_ms is not None:
        s = run.step_ms
        rows.append(("Step time", f"median {fmt_ms(s.median)}, p10 {fmt_ms(s.p10)}, "
                     f"p90 {fmt_ms(s.p90)}"))  # fmt: skip
    rows += compute_rows(run)
    rows += ranks_summary(run)
    # of how many steps, and the interval in force: a 60-step run recorded in its early burst
    # read "10 (1 in 200)", as if 10 of 2,000 steps had been recorded
    sampled = f"{run.sampled_steps} of {run.steps} steps"
    if run.sample_every:
        sampled += f" (latest interval: 1 in {run.sample_every})"
    rows.append(("Sampled steps", sampled))
    if run.gil is not None and run.gil.p50_ms is not None:
        rows.append(("GIL lateness", f"p50 {fmt_ms(run.gil.p50_ms)}, p99 {fmt_ms(run.gil.p99_ms)}, "
                     f"late share {fmt_percent(run.gil.late_share)}"))  # fmt: skip
    rows += compile_summary(run.compile)
    for note in run.notes:
        rows.append(("Note", note))
    return rows


def compute_rows(run: RunReport) -> list[tuple[str, str]]:
    """FLOPs per step, FLOP/s and MFU, and the loop's memory, as summary rows."""
    rows = []
    if run.flops_per_step is not None:
        what = "forward + backward" if run.step_boundary == "optimizer.step" else "forward"
        calls = run.model_calls_per_step
        times = f" x {calls:g} calls" if calls is not None and calls != 1 else ""
        rows.append(("FLOPs per step", f"{fmt_flops(run.flops_per_step)} (the main model's "
                     f"{what}{times}, counted on its snapshot)"))  # fmt: skip
        mfu = mfu_text(run.mfu, run.peak_flops_per_s, run.peak_source)
        if run.mfu is None:
            mfu += " (no peak for this device: --peak-tflops)"
        rows.append(("FLOP/s", f"{fmt_flop_rate(run.achieved_flops_per_s)} at the median "
                     f"step, MFU {mfu}"))  # fmt: skip
    memory = run.memory
    if memory is not None:
        grows = growth_text(memory.growth_bytes_per_step)
        flag = " (growing)" if memory.growing else ""
        rows.append(("Memory", f"peak {fmt_bytes(memory.peak_bytes)} ({memory.how}, read at "
                     f"{memory.samples} step boundaries), growth {grows}{flag}"))  # fmt: skip
    return rows


def growth_text(growth: float | None) -> str:
    """``+1.2 MiB per step``; memory that falls step after step does not grow: "none"."""
    if growth is None:
        return NOT_AVAILABLE
    return f"+{fmt_bytes(growth)} per step" if growth > 0 else "none"


def phases_table(run: RunReport) -> Table:
    rows = []
    phases = run.phases_ms
    if phases is not None:
        values = {
            "data": phases.data,
            "forward": phases.forward,
            "backward": phases.backward,
            "optimizer": phases.optimizer,
            "other": phases.other,
        }
        total = sum(values.values())
        for name, value in values.items():
            share = fmt_percent(value / total) if total > 0 else NOT_AVAILABLE
            rows.append([name, fmt_ms(value), share])
    return Table(
        "Phases of a step (median per step)",
        ["Phase", "Time", "Share"],
        rows,
        note="Sampled steps are left out: the detectors slow them down.",
        empty="No step completed.",
    )


def models_table(run: RunReport) -> Table:
    rows = [[m.model_class, fmt_count(m.total_params), m.role] for m in run.models]
    return Table("Models", ["Class", "Parameters", "Role"], rows, code={0},
                 empty="No model was called.")  # fmt: skip


def loop_syncs_table(run: RunReport) -> Table:
    rows = [
        [
            s.finding.op,
            number(s.per_step, 3),
            f"{s.seen_steps} of {s.sampled_steps}",
            block_label(s.finding.block),
            location(s.finding.location),
            fmt_ms(s.finding.stall_ms),
            s.finding.reason,
        ]
        for s in run.syncs
    ]
    return Table(
        "Sync points of the loop",
        ["Op", "Per step", "Seen on", "Block", "Location", "Stall", "Reason"],
        rows,
        note="Seen on K of M sampled steps; on the CPU these are the places that would sync "
        "on CUDA (stall not available).",
        empty=run.none_seen("sync points"),
        code={0, 3, 4},
    )


def loop_copies_table(run: RunReport) -> Table:
    rows = [
        [
            c.finding.direction,
            fmt_bytes(c.finding.bytes),
            number(c.per_step, 3),
            f"{c.seen_steps} of {c.sampled_steps}",
            block_label(c.finding.block),
            location(c.finding.location),
        ]
        for c in run.copies
    ]
    return Table(
        "Host-device copies of the loop",
        ["Direction", "Bytes (all sampled steps)", "Per step", "Seen on", "Block", "Location"],
        rows,
        empty=run.none_seen("host-device copies"),
        code={4, 5},
    )


def loop_blocks_table(run: RunReport) -> Table:
    rows = [
        [block_label(b.path), fmt_ms(b.self_ms), fmt_ms(b.inclusive_ms), str(b.calls)]
        for b in run.blocks
    ]
    return Table(
        "Blocks of the main model (per step)",
        ["Block", "Self", "Inclusive", "Calls"],
        rows,
        note=f"Timed with module hooks on {run.block_timed_steps} step(s) apart from the sampled "
        "ones; on CUDA, host-side time.",
        empty="No step was timed per block.",
        code={0},
    )


def run_tables(run: RunReport) -> list[Table]:
    return [
        *rank_tables(run),
        phases_table(run),
        loop_blocks_table(run),
        loop_syncs_table(run),
        loop_copies_table(run),
        *compile_tables(run.compile),
        models_table(run),
    ]
