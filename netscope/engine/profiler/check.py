"""``netscope check``: compare one profiled step against limits and say plainly what failed.

Counts are per step: a sync found once at a line that runs three times in the step counts three.
A limit left unset is not checked. A check that passes still lists each sync and copy it found
(as pytest lists warnings on a green run), in the same form as a violation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from netscope.engine.model import CopyFinding, Profile, SyncFinding


@dataclass(frozen=True)
class Limits:
    max_syncs: int | None = None
    max_copies: int | None = None
    max_copy_bytes: int | None = None


def _where(location: str | None, block: str) -> str:
    return f"{location or 'unknown location'} (block {block or '(root)'})"


def _lines(
    findings: Sequence[CopyFinding] | Sequence[SyncFinding], what: Callable[..., str], label: str
) -> list[str]:
    """One line per finding: where, what it did (``what``) and ``label``."""
    return [f"{_where(f.location, f.block)}: {what(f)} per step [{label}]" for f in findings]


def _exceeded(total: int, limit: int | None) -> bool:
    return limit is not None and total > limit


def _over(
    total: int,
    limit: int | None,
    label: str,
    findings: Sequence[CopyFinding] | Sequence[SyncFinding],
    what: Callable[..., str],
) -> list[str]:
    """One line per finding when ``total`` is over ``limit``; ``what`` says what each one did."""
    return _lines(findings, what, label) if _exceeded(total, limit) else []


def _sync_what(f: SyncFinding) -> str:
    return f"{f.op} x{f.count}"


def _copy_what(f: CopyFinding) -> str:
    return f"{f.direction} copy x{f.count}, {f.bytes} bytes"


def within_limits(profile: Profile, limits: Limits) -> list[str]:
    """One line per sync and copy found whose totals are within their limits (or unlimited).

    A finding already listed as a violation is not listed again."""
    return findings_within(profile.syncs, profile.copies, _totals(profile), limits)


def evaluate(profile: Profile, limits: Limits) -> list[str]:
    """One line per finding that pushes a total over its limit; empty when within limits."""
    return findings_over(profile.syncs, profile.copies, _totals(profile), limits)


def _totals(profile: Profile) -> tuple[int, int, int]:
    return profile.sync_count, profile.copy_count, profile.copy_bytes


def findings_within(
    syncs: Sequence[SyncFinding],
    copies: Sequence[CopyFinding],
    totals: tuple[int, int, int],
    limits: Limits,
) -> list[str]:
    """``within_limits`` for any step's findings and totals (syncs, copies, bytes copied per
    step): ``netscope check``'s profiled step, ``netscope run``'s loop."""
    sync_count, copy_count, copy_bytes = totals
    shown_syncs = () if _exceeded(sync_count, limits.max_syncs) else syncs
    copies_over = _exceeded(copy_count, limits.max_copies) or _exceeded(
        copy_bytes, limits.max_copy_bytes
    )
    shown_copies = () if copies_over else copies
    return [*_lines(shown_syncs, _sync_what, "sync"), *_lines(shown_copies, _copy_what, "copy")]


def findings_over(
    syncs: Sequence[SyncFinding],
    copies: Sequence[CopyFinding],
    totals: tuple[int, int, int],
    limits: Limits,
) -> list[str]:
    """``evaluate`` for any step's findings and totals (see ``findings_within``)."""
    sync_count, copy_count, copied = totals
    return [
        *_over(
            sync_count,
            limits.max_syncs,
            f"syncs {sync_count} > --max-syncs {limits.max_syncs}",
            syncs,
            _sync_what,
        ),
        *_over(
            copy_count,
            limits.max_copies,
            f"copies {copy_count} > --max-copies {limits.max_copies}",
            copies,
            lambda f: f"{f.direction} copy x{f.count}",
        ),
        *_over(
            copied,
            limits.max_copy_bytes,
            f"bytes copied {copied} > --max-copy-bytes {limits.max_copy_bytes}",
            copies,
            lambda f: f"{f.direction} {f.bytes} bytes",
        ),
    ]


def _limit(value: int | None) -> str:
    return "no limit" if value is None else f"limit {value}"


def format_verdict(
    profile: Profile, limits: Limits, violations: list[str], totals: Sequence[str] = ()
) -> str:
    """The text ``netscope check`` prints: totals against limits (``totals``: more of them, such
    as the step's memory), each violation, then each finding within limits (on a pass, every
    sync and copy found)."""
    timing = ", ".join(f"{t.device} {t.median_ms:.3f} ms" for t in profile.devices)
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
    found = within_limits(profile, limits)
    if violations:
        lines.append(f"FAILED: {len(violations)} violation(s)")
        lines.extend(f"  {v}" for v in violations)
        if found:
            lines.append("found within limits:")
    else:
        lines.append("OK: within limits" + (", found:" if found else ""))
    lines.extend(f"  {line}" for line in found)
    return "\n".join(lines)
