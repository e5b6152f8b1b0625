"""The ranks of a torchrun job in the Markdown and HTML run reports: who waited, who straggled,
each rank's memory peak and its collectives by kind and block (the JSON's ``run.ranks``)."""

from __future__ import annotations

from netscope.engine.model import RankRun, RunReport
from netscope.report.table import Table, block_label
from netscope.report.values import NOT_AVAILABLE, fmt_bytes, fmt_count, fmt_ms


def straggler_text(run: RunReport) -> str:
    """``rank 1 (waits differ by 12% of a step)``, or why none is named."""
    skew = run.skew_pct
    if run.straggler is not None and skew is not None:
        return (
            f"rank {run.straggler} (the others wait for it: waits differ by {skew:.0f}% of a step)"
        )
    if skew is not None:
        return f"none (waits differ by {skew:.1f}% of a step, under 5%)"
    return "none (fewer than two ranks measured their wait)"


def ranks_summary(run: RunReport) -> list[tuple[str, str]]:
    """Summary rows of a job with ranks; nothing for one process."""
    if not run.ranks:
        return []
    return [
        ("World size", f"{run.world_size} ({len(run.ranks)} reached netscope; the rest of this "
                       "report is rank 0's)"),
        ("Straggler", straggler_text(run)),
    ]  # fmt: skip


def _collective_ms(rank: RankRun) -> str:
    if not rank.collectives:
        return NOT_AVAILABLE
    kinds: dict[str, float] = {}
    for stat in rank.collectives:
        kinds[stat.kind] = kinds.get(stat.kind, 0.0) + stat.ms_per_step
    return ", ".join(f"{kind} {fmt_ms(ms)}" for kind, ms in kinds.items())


def ranks_table(run: RunReport) -> Table:
    rows = []
    for rank in run.ranks:
        report = rank.report
        peak_bytes, how = rank.memory_peak
        peak = NOT_AVAILABLE if peak_bytes is None else f"{fmt_bytes(peak_bytes)} ({how})"
        mark = " (straggler)" if rank.rank == run.straggler else ""
        rows.append([
            f"{rank.rank}{mark}", rank.host, report.state, fmt_count(report.steps),
            fmt_ms(report.step_ms.median if report.step_ms else None),
            fmt_ms(rank.wait_ms.median if rank.wait_ms else None), fmt_ms(rank.busy_ms), peak,
            _collective_ms(rank),
        ])  # fmt: skip
    return Table(
        "Ranks",
        ["Rank", "Host", "State", "Steps", "Step", "Wait", "Busy", "Peak memory",
         "Collectives per step"],
        rows,
        note="Medians per step over the steps not sampled for detection. Wait: time with a "
        "collective outstanding; busy: step minus wait (the straggler's is the largest).",
    )  # fmt: skip


def collectives_table(run: RunReport) -> Table:
    rows = [
        [
            str(rank.rank), stat.kind, stat.via,
            NOT_AVAILABLE if stat.block is None else block_label(stat.block),
            f"{stat.calls_per_step:g}", fmt_ms(stat.ms_per_step),
            fmt_ms(stat.exposed_ms_per_step), fmt_bytes(stat.bytes_per_step),
        ]
        for rank in run.ranks
        for stat in rank.collectives
    ]  # fmt: skip
    return Table(
        "Collectives per rank (per step)",
        ["Rank", "Kind", "Via", "Block", "Calls", "Time", "Exposed", "Bytes"],
        rows,
        note="Time: launch to completion; exposed: the rank blocked on it; bytes: the full "
        "tensor (an all-gather's output, a reduce-scatter's input).",
        empty="No collective was timed.",
        code={3},
    )


def rank_tables(run: RunReport) -> list[Table]:
    return [ranks_table(run), collectives_table(run)] if run.ranks else []
