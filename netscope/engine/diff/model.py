"""The diff's typed data: frozen dataclasses the renderers (report/diff_*.py), the baseline gates
and the app read. A figure missing from either report is None ("not available"), never 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["changed", "same", "added", "removed", "moved"]
Verdict = Literal["slower", "faster", "within noise", "contended", "not available"]
FindingKind = Literal["sync", "copy"]
FindingChangeKind = Literal["gained", "lost", "more", "fewer"]


@dataclass(frozen=True)
class Change:
    """One figure in report A (before) and report B (after)."""

    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def pct(self) -> float | None:
        """The change as a percentage of ``before``; None when before is 0 or unknown."""
        delta = self.delta
        if delta is None or not self.before:
            return None
        return 100.0 * delta / abs(self.before)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class TimeChange:
    """A time before and after with the range each was measured in (p10..p90, or the step's
    relative spread applied to a block's time); ``verdict`` says whether the change is real."""

    name: str  # a device ("cpu"), "step", or a phase ("forward")
    before_ms: float | None
    after_ms: float | None
    before_range: tuple[float, float] | None
    after_range: tuple[float, float] | None
    verdict: Verdict

    @property
    def change(self) -> Change:
        return Change(self.before_ms, self.after_ms)


@dataclass(frozen=True)
class NamedChange:
    """A whole-report figure: ``params``, ``forward FLOPs``, ``peak memory``..."""

    name: str
    unit: Literal["count", "flops", "bytes"]
    change: Change


@dataclass(frozen=True)
class BlockDiff:
    """One block matched across the two reports (or only in one of them)."""

    path: str  # in B; A's path for a removed block
    before_path: str | None  # in A; None for an added block; differs from path when moved
    type: str
    status: Status
    params: Change
    forward_flops: Change
    backward_flops: Change
    saved_bytes: Change
    times: tuple[TimeChange, ...]
    impact: float  # the largest share of the whole model this block's changes amount to
    position: int = 0  # B's tree order (pre-order), removed blocks after in A's order

    @property
    def depth(self) -> int:
        return 0 if not self.path else self.path.count(".") + 1


@dataclass(frozen=True)
class FindingChange:
    """A sync or copy place (op or direction at file:line) gained, lost, or seen more or less."""

    kind: FindingKind
    change: FindingChangeKind
    what: str  # the op (".item()") or the copy's direction ("D2H")
    location: str | None
    block: str | None
    before_count: float
    after_count: float


@dataclass(frozen=True)
class KeyChange:
    """A checkpoint list (missing, unexpected, mismatched, covered_by_tie): keys gained, lost."""

    field: str
    gained: tuple[str, ...]
    lost: tuple[str, ...]


@dataclass(frozen=True)
class ReportDiff:
    """Everything that changed from report A to report B."""

    before_target: str
    after_target: str
    before_kind: str
    after_kind: str
    totals: tuple[NamedChange, ...]
    peak_at: tuple[str | None, str | None]
    timings: tuple[TimeChange, ...]  # the step per device (or the run's step and phases)
    blocks: tuple[BlockDiff, ...]  # changed, added, removed, moved first, by impact; then same
    findings: tuple[FindingChange, ...]
    ties_added: tuple[tuple[str, ...], ...]
    ties_removed: tuple[tuple[str, ...], ...]
    checkpoint: tuple[KeyChange, ...]
    findings_measured: tuple[bool, bool] = (True, True)  # syncs/copies looked for in A, in B

    def total(self, name: str) -> Change | None:
        return next((t.change for t in self.totals if t.name == name), None)

    @property
    def changed_blocks(self) -> tuple[BlockDiff, ...]:
        return tuple(b for b in self.blocks if b.status != "same")
