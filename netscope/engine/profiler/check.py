"""``netscope check``: compare one profiled step against limits and say plainly what failed.

Counts are per step: a sync found once at a line that runs three times in the step counts three.
A limit left unset is not checked.
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


def _over(
    total: int,
    limit: int | None,
    label: str,
    findings: Sequence[CopyFinding] | Sequence[SyncFinding],
    what: Callable[..., str],
) -> list[str]:
    """One line per finding when ``total`` is over ``limit``; ``what`` says what each one did."""
    if limit is None or total <= limit:
        return []
    return [f"{_where(f.location, f.block)}: {what(f)} per step [{label}]" for f in findings]


def evaluate(profile: Profile, limits: Limits) -> list[str]:
    """One line per finding that pushes a total over its limit; empty when within limits."""
    syncs, copies, copied = profile.sync_count, profile.copy_count, profile.copy_bytes
    return [
        *_over(
            syncs,
            limits.max_syncs,
            f"syncs {syncs} > --max-syncs {limits.max_syncs}",
            profile.syncs,
            lambda f: f"{f.op} x{f.count}",
        ),
        *_over(
            copies,
            limits.max_copies,
            f"copies {copies} > --max-copies {limits.max_copies}",
            profile.copies,
            lambda f: f"{f.direction} copy x{f.count}",
        ),
        *_over(
            copied,
            limits.max_copy_bytes,
            f"bytes copied {copied} > --max-copy-bytes {limits.max_copy_bytes}",
            profile.copies,
            lambda f: f"{f.direction} {f.bytes} bytes",
        ),
    ]


def _limit(value: int | None) -> str:
    return "no limit" if value is None else f"limit {value}"


def format_verdict(profile: Profile, limits: Limits, violations: list[str]) -> str:
    """The text ``netscope check`` prints: totals against limits, then each violation."""
    timing = ", ".join(f"{t.device} {t.median_ms:.3f} ms" for t in profile.devices)
    lines = [
        f"netscope check: {profile.step or 'step'}" + (f" (median {timing})" if timing else ""),
        f"  sync points per step: {profile.sync_count} ({_limit(limits.max_syncs)})",
        f"  host-device copies per step: {profile.copy_count} ({_limit(limits.max_copies)})",
        f"  bytes copied per step: {profile.copy_bytes} ({_limit(limits.max_copy_bytes)})",
    ]
    lines += [f"  timing on {t.device} is {t.noise}" for t in profile.devices if t.noise]
    if any(f.stall_ms is None for f in profile.syncs):
        lines.append("  syncs found on the CPU are where the step would wait on CUDA")
    if violations:
        lines.append(f"FAILED: {len(violations)} violation(s)")
        lines.extend(f"  {v}" for v in violations)
    else:
        lines.append("OK: within limits")
    return "\n".join(lines)
