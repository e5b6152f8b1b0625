"""The diff as tables (report/table.Table): the terminal, Markdown and HTML diffs all render
these, so each figure is spelled once."""

from __future__ import annotations

from collections.abc import Callable

from netscope.engine.diff.model import BlockDiff, Change, ReportDiff, TimeChange
from netscope.report.table import Table, block_label
from netscope.units import NOT_AVAILABLE, count, flops, ms, size

UNITS: dict[str, Callable[[float | None], str]] = {
    "count": lambda v: count(None if v is None else int(v)),
    "flops": flops,
    "bytes": size,
}
ROWS_SHOWN = 40  # changed blocks listed; the JSON diff has every block


def signed(value: float | None, unit: str) -> str:
    if value is None:
        return NOT_AVAILABLE
    text = UNITS[unit](abs(value))
    return f"-{text}" if value < 0 else f"+{text}"


def delta_text(change: Change, unit: str) -> str:
    """``+1.20M (+25.0%)``; ``new 1.20M`` / ``gone 1.20M`` when one side lacks it; ``=``."""
    if change.before is None and change.after is None:
        return NOT_AVAILABLE
    if change.before is None:
        return f"new {UNITS[unit](change.after)}"
    if change.after is None:
        return f"gone {UNITS[unit](change.before)}"
    if not change.changed:
        return "="
    pct = change.pct
    return signed(change.delta, unit) + ("" if pct is None else f" ({pct:+.1f}%)")


def time_text(timing: TimeChange) -> str:
    """``+1.20 ms (+12.0%, slower)``, ``(within noise)``, ``n/a``."""
    change = timing.change
    if change.before is None and change.after is not None:
        return f"B only: {ms(change.after)}"
    if change.after is None and change.before is not None:
        return f"A only: {ms(change.before)}"
    if change.before is None or change.after is None:
        return NOT_AVAILABLE
    delta = change.delta or 0.0
    sign = "-" if delta < 0 else "+"
    pct = change.pct
    share = "" if pct is None else f"{pct:+.1f}%, "
    verdict = {
        "not available": "noise not known",
        "contended": "not judged: other processes kept the CPUs busy",
    }.get(timing.verdict, timing.verdict)
    return f"{sign}{ms(abs(delta))} ({share}{verdict})"


def _status(block: BlockDiff) -> str:
    if block.status == "moved":
        return f"moved from {block_label(block.before_path or '')}"
    return block.status


def _block_flops(block: BlockDiff) -> str:
    fwd = delta_text(block.forward_flops, "flops")
    return f"{fwd} / {delta_text(block.backward_flops, 'flops')}"


def _block_time(block: BlockDiff) -> str:
    return "; ".join(f"{t.name} {time_text(t)}" for t in block.times) or NOT_AVAILABLE


def totals_table(diff: ReportDiff) -> Table:
    rows = [
        [t.name, UNITS[t.unit](t.change.before), UNITS[t.unit](t.change.after),
         delta_text(t.change, t.unit)]
        for t in diff.totals
        if t.change.before is not None or t.change.after is not None
    ]  # fmt: skip
    before_at, after_at = diff.peak_at
    note = f"peak at: {before_at or NOT_AVAILABLE} -> {after_at or NOT_AVAILABLE}"
    return Table("Totals", ["figure", "A", "B", "change"], rows, note=note if rows else "")


def timing_table(diff: ReportDiff) -> Table:
    rows = [[t.name, ms(t.before_ms), ms(t.after_ms), time_text(t)] for t in diff.timings]
    return Table("Step time", ["timed", "A (median)", "B (median)", "change"], rows,
                 note="a change is real only when the two p10..p90 ranges do not overlap",
                 empty="Not timed in either report (report --profile times the step).")  # fmt: skip


def blocks_table(diff: ReportDiff) -> Table:
    changed = diff.changed_blocks
    rows = [
        [block_label(b.path), b.type, _status(b), delta_text(b.params, "count"),
         _block_flops(b), delta_text(b.saved_bytes, "bytes"), _block_time(b)]
        for b in changed[:ROWS_SHOWN]
    ]  # fmt: skip
    more = len(changed) - ROWS_SHOWN
    note = f"{more} more changed blocks in the JSON diff" if more > 0 else ""
    return Table("Blocks changed (by impact)",
                 ["block", "type", "status", "params", "FLOPs fwd / bwd", "saved", "time"],
                 rows, note=note, code={0}, empty="No block changed.")  # fmt: skip


def findings_table(diff: ReportDiff) -> Table:
    rows = [
        [f.kind, f.change, f.what, f.location or "unknown location", block_label(f.block or ""),
         f"{f.before_count:g} -> {f.after_count:g}"]
        for f in diff.findings
    ]  # fmt: skip
    return Table("Syncs and copies", ["kind", "change", "what", "where", "block", "per step"],
                 rows, code={3, 4}, empty="No sync or copy gained or lost.")  # fmt: skip


def keys_table(diff: ReportDiff) -> Table:
    rows = [["tie added", ", ".join(group)] for group in diff.ties_added]
    rows += [["tie removed", ", ".join(group)] for group in diff.ties_removed]
    for change in diff.checkpoint:
        rows += [[f"checkpoint {change.field} +", key] for key in change.gained]
        rows += [[f"checkpoint {change.field} -", key] for key in change.lost]
    return Table("Ties and checkpoint keys", ["change", "names"], rows, code={1},
                 empty="No tie or checkpoint key changed.")  # fmt: skip


def diff_tables(diff: ReportDiff) -> list[Table]:
    return [totals_table(diff), timing_table(diff), blocks_table(diff), findings_table(diff),
            keys_table(diff)]  # fmt: skip
