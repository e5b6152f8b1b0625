"""``netscope check``: compare one profiled step against limits, as typed ``Violation`` values
(report/check_text.py writes them and the verdict).

Counts are per step: a sync found once at a line that runs three times in the step counts three.
A limit left unset is not checked. A check that passes still lists each sync and copy it found
(as pytest lists warnings on a green run), in the same form as a violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netscope.engine.model import CopyFinding, Gate, Profile, SyncFinding, Violation


@dataclass(frozen=True)
class Limits:
    max_syncs: int | None = None
    max_copies: int | None = None
    max_copy_bytes: int | None = None


def exceeded(total: int, limit: int | None) -> bool:
    return limit is not None and total > limit


def _over(
    gate: Gate,
    total: int,
    limit: int | None,
    findings: Sequence[CopyFinding] | Sequence[SyncFinding],
) -> list[Violation]:
    """One violation per finding when ``total`` is over ``limit``."""
    if not exceeded(total, limit):
        return []
    return [Violation(gate, total, limit, finding) for finding in findings]


def within_limits(profile: Profile, limits: Limits) -> list[SyncFinding | CopyFinding]:
    """Every sync and copy found whose totals are within their limits (or unlimited).

    A finding already listed as a violation is not listed again."""
    return findings_within(profile.syncs, profile.copies, _totals(profile), limits)


def evaluate(profile: Profile, limits: Limits) -> list[Violation]:
    """One violation per finding that pushes a total over its limit; empty within limits."""
    return findings_over(profile.syncs, profile.copies, _totals(profile), limits)


def _totals(profile: Profile) -> tuple[int, int, int]:
    return profile.sync_count, profile.copy_count, profile.copy_bytes


def findings_within(
    syncs: Sequence[SyncFinding],
    copies: Sequence[CopyFinding],
    totals: tuple[int, int, int],
    limits: Limits,
) -> list[SyncFinding | CopyFinding]:
    """``within_limits`` for any step's findings and totals (syncs, copies, bytes copied per
    step): ``netscope check``'s profiled step, ``netscope run``'s loop."""
    sync_count, copy_count, copy_bytes = totals
    shown_syncs = () if exceeded(sync_count, limits.max_syncs) else syncs
    copies_over = exceeded(copy_count, limits.max_copies) or exceeded(
        copy_bytes, limits.max_copy_bytes
    )
    return [*shown_syncs, *(() if copies_over else copies)]


def findings_over(
    syncs: Sequence[SyncFinding],
    copies: Sequence[CopyFinding],
    totals: tuple[int, int, int],
    limits: Limits,
) -> list[Violation]:
    """``evaluate`` for any step's findings and totals (see ``findings_within``)."""
    sync_count, copy_count, copied = totals
    return [
        *_over("syncs", sync_count, limits.max_syncs, syncs),
        *_over("copies", copy_count, limits.max_copies, copies),
        *_over("bytes copied", copied, limits.max_copy_bytes, copies),
    ]
