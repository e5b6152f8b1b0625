"""The loop's syncs and copies over its sampled steps: each event folded per (block, line, op),
then the findings with per-step counts and the steps they were seen on."""

from __future__ import annotations

from typing import Any

from netscope.engine.model import CopyFinding, LoopCopy, LoopSync, SyncFinding
from netscope.engine.profiler import copies as copy_rules
from netscope.engine.profiler import syncs as sync_rules
from netscope.engine.profiler.tracking import location_key


class LoopTable:
    """Sync and copy events of every sampled step, folded per (block, line, op)."""

    def __init__(self) -> None:
        self.syncs: dict[tuple[str, str | None, str], list[Any]] = {}
        self.copies: dict[tuple[str, str | None, str], list[Any]] = {}
        self.sampled = 0

    def add_step(self, sync_events: list[Any], copy_events: list[Any]) -> None:
        self.sampled += 1
        seen: set[tuple[str, Any]] = set()
        for e in sync_events:
            key = (e.block, e.location, e.op)
            row = self.syncs.setdefault(key, [e.reason, 0, 0, None])
            row[1] += 1
            if e.stall_s is not None:
                row[3] = (row[3] or 0.0) + e.stall_s
            if ("s", key) not in seen:
                seen.add(("s", key))
                row[2] += 1
        for e in copy_events:
            key = (e.block, e.location, e.direction)
            row = self.copies.setdefault(key, [0, 0, set(), set(), True, 0])
            row[0] += 1
            row[1] += e.bytes
            row[2].add(e.dtype)
            row[3].add(e.pinned)
            row[4] = row[4] and e.non_blocking
            if ("c", key) not in seen:
                seen.add(("c", key))
                row[5] += 1

    def fold_into_one_step(self) -> None:
        """The steps sampled so far were one step of the loop: an optimizer stepped for the
        first time, and every call of the model before it (an ``estimate_loss()`` at iteration
        0, the micro-batches of the first step) belongs to its first step. Their events stay;
        they were seen on one step."""
        if not self.sampled:
            return
        self.sampled = 1
        for row in self.syncs.values():
            row[2] = min(row[2], 1)
        for row in self.copies.values():
            row[5] = min(row[5], 1)

    def findings(self, device: str) -> tuple[tuple[LoopSync, ...], tuple[LoopCopy, ...]]:
        m = max(self.sampled, 1)
        measured = not device.startswith("cpu")
        out_syncs = []
        for (block, location, op), (reason, count, seen, stall) in self.syncs.items():
            finding = SyncFinding(
                op=op,
                reason=reason + ("" if measured else sync_rules.WOULD_SYNC),
                count=count,
                block=block,
                location=location,
                stall_ms=stall * 1000.0 if measured and stall is not None else None,
                device=device,
            )
            out_syncs.append(LoopSync(finding, count / m, seen, self.sampled))
        out_syncs.sort(
            key=lambda s: (
                -s.per_step,
                -(s.finding.stall_ms or 0.0),
                location_key(s.finding.location),
            )
        )
        out_copies: list[LoopCopy] = []
        for (block, location, way), (count, size, dtypes, pinned, nb, seen) in self.copies.items():
            copy = CopyFinding(
                direction=way,
                bytes=size,
                count=count,
                dtype=",".join(sorted(dtypes)),
                pinned=next(iter(pinned)) if len(pinned) == 1 else None,
                non_blocking=nb,
                block=block,
                location=location,
                many_small=count / m >= copy_rules.MANY_SMALL_CALLS
                and size / count <= copy_rules.MANY_SMALL_MEAN_BYTES,
            )
            out_copies.append(LoopCopy(copy, count / m, seen, self.sampled))
        out_copies.sort(key=lambda c: (-c.finding.bytes, location_key(c.finding.location)))
        return tuple(out_syncs), tuple(out_copies)
