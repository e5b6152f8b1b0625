"""The diff as JSON-ready data (``netscope diff A B -o diff.json``). ``diff_schema_version`` 1:
fields may be added, never renamed; null is "not available" as in the report schema."""

from __future__ import annotations

from typing import Any

from netscope.engine.diff.model import BlockDiff, Change, ReportDiff, TimeChange

DIFF_SCHEMA_VERSION = 1


def _plain(value: float | None) -> float | int | None:
    """28000.0 -> 28000: counts and bytes stay integers in the file."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def change_dict(change: Change) -> dict[str, Any]:
    return {"before": _plain(change.before), "after": _plain(change.after),
            "delta": _plain(change.delta),
            "pct": None if change.pct is None else round(change.pct, 3)}  # fmt: skip


def time_dict(timing: TimeChange) -> dict[str, Any]:
    return {
        "name": timing.name,
        **change_dict(timing.change),
        "before_range": None if timing.before_range is None else list(timing.before_range),
        "after_range": None if timing.after_range is None else list(timing.after_range),
        "verdict": timing.verdict,
    }


def block_dict(block: BlockDiff) -> dict[str, Any]:
    return {
        "path": block.path,
        "before_path": block.before_path,
        "type": block.type,
        "status": block.status,
        "impact": round(block.impact, 6),
        "total_params": change_dict(block.params),
        "forward_flops": change_dict(block.forward_flops),
        "backward_flops": change_dict(block.backward_flops),
        "saved_bytes": change_dict(block.saved_bytes),
        "times": [time_dict(t) for t in block.times],
    }


def diff_dict(diff: ReportDiff) -> dict[str, Any]:
    return {
        "diff_schema_version": DIFF_SCHEMA_VERSION,
        "before": {"target": diff.before_target, "kind": diff.before_kind,
                   "peak_at": diff.peak_at[0]},
        "after": {"target": diff.after_target, "kind": diff.after_kind,
                  "peak_at": diff.peak_at[1]},
        "totals": {t.name: change_dict(t.change) for t in diff.totals},
        "timings": [time_dict(t) for t in diff.timings],
        "blocks": [block_dict(b) for b in diff.blocks],
        "findings": [
            {"kind": f.kind, "change": f.change, "what": f.what, "location": f.location,
             "block": f.block, "before_per_step": _plain(f.before_count),
             "after_per_step": _plain(f.after_count)}
            for f in diff.findings
        ],
        "ties_added": [list(g) for g in diff.ties_added],
        "ties_removed": [list(g) for g in diff.ties_removed],
        "checkpoint": {c.field: {"gained": list(c.gained), "lost": list(c.lost)}
                       for c in diff.checkpoint},
    }  # fmt: skip
