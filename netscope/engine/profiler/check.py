"""``netscope check``: compare one profiled step against limits and say plainly what failed.

Counts are per step: a sync found once at a line that runs three times in the step counts three.
A limit left unset is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from netscope.engine.model import Profile


@dataclass(frozen=True)
class Limits:
    max_syncs: int | None = None
    max_copies: int | None = None
    max_copy_bytes: int | None = None


def _where(location: str | None, block: str) -> str:
    return f"{location or 'unknown location'} (block {block or '(root)'})"


def evaluate(profile: Profile, limits: Limits) -> list[str]:
    """One line per finding that pushes a total over its limit; empty when within limits."""
    violations: list[str] = []
    syncs = sum(f.count for f in profile.syncs)
    if limits.max_syncs is not None and syncs > limits.max_syncs:
        for f in profile.syncs:
            violations.append(
                f"{_where(f.location, f.block)}: {f.op} x{f.count} per step "
                f"[syncs {syncs} > --max-syncs {limits.max_syncs}]"
            )
    copies = sum(f.count for f in profile.copies)
    if limits.max_copies is not None and copies > limits.max_copies:
        for f in profile.copies:
            violations.append(
                f"{_where(f.location, f.block)}: {f.direction} copy x{f.count} per step "
                f"[copies {copies} > --max-copies {limits.max_copies}]"
            )
    copied = sum(f.bytes for f in profile.copies)
    if limits.max_copy_bytes is not None and copied > limits.max_copy_bytes:
        for f in profile.copies:
            violations.append(
                f"{_where(f.location, f.block)}: {f.direction} {f.bytes} bytes per step "
                f"[bytes copied {copied} > --max-copy-bytes {limits.max_copy_bytes}]"
            )
    return violations


def _limit(value: int | None) -> str:
    return "no limit" if value is None else f"limit {value}"


def format_verdict(profile: Profile, limits: Limits, violations: list[str]) -> str:
    """The text ``netscope check`` prints: totals against limits, then each violation."""
    syncs = sum(f.count for f in profile.syncs)
    copies = sum(f.count for f in profile.copies)
    copied = sum(f.bytes for f in profile.copies)
    timing = ", ".join(f"{t.device} {t.median_ms:.3f} ms" for t in profile.devices)
    lines = [
        f"netscope check: {profile.step or 'step'}" + (f" (median {timing})" if timing else ""),
        f"  sync points per step: {syncs} ({_limit(limits.max_syncs)})",
        f"  host-device copies per step: {copies} ({_limit(limits.max_copies)})",
        f"  bytes copied per step: {copied} ({_limit(limits.max_copy_bytes)})",
    ]
    if any(f.stall_ms is None for f in profile.syncs):
        lines.append("  syncs found on the CPU are where the step would wait on CUDA")
    if violations:
        lines.append(f"FAILED: {len(violations)} violation(s)")
        lines.extend(f"  {v}" for v in violations)
    else:
        lines.append("OK: within limits")
    return "\n".join(lines)
