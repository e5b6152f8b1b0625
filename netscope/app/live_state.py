"""What the app has received so far from the profiler, kept to render panels and to export."""

from __future__ import annotations

from dataclasses import dataclass, field

from netscope.engine.model import (
    BlockTiming,
    CopyFinding,
    GilReport,
    Profile,
    SyncFinding,
    SystemSample,
    TimingSummary,
)
from netscope.engine.profiler import messages as wm


@dataclass
class LiveState:
    """Results by kind; ``None`` means "not measured yet" (an empty tuple means "none found")."""

    windows: dict[str, tuple[float, ...]] = field(default_factory=dict)
    iterations: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, TimingSummary] = field(default_factory=dict)
    block_timings: dict[str, tuple[BlockTiming, ...]] = field(default_factory=dict)
    copies: tuple[CopyFinding, ...] | None = None
    syncs: tuple[SyncFinding, ...] | None = None
    gil: GilReport | None = None
    system: SystemSample | None = None
    profile: Profile | None = None  # the final one, from Finished
    _index_key: tuple[tuple[str, int], ...] = field(default=(), repr=False, compare=False)
    _rows_by_path: dict[str, list[BlockTiming]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def apply(self, event: wm.WorkerMessage) -> None:
        """Record one result message (timing windows and system samples come separately)."""
        if isinstance(event, wm.TimingDone):
            self.summaries[event.summary.device] = event.summary
        elif isinstance(event, wm.BlockTimings):
            self.block_timings[event.device] = event.rows
        elif isinstance(event, wm.CopiesFound):
            self.copies = event.rows
        elif isinstance(event, wm.SyncsFound):
            self.syncs = event.rows
        elif isinstance(event, wm.GilMeasured):
            self.gil = event.report
        elif isinstance(event, wm.Finished) and event.profile is not None:
            self.profile = event.profile
            self.summaries.update({s.device: s for s in event.profile.devices})
            self.block_timings.update(_by_device(event.profile.blocks))
            self.copies = event.profile.copies
            self.syncs = event.profile.syncs
            self.gil = event.profile.gil or self.gil
            self.system = event.profile.system or self.system

    def as_profile(self) -> Profile | None:
        """The final profile, or what has arrived so far; None before any measurement."""
        if self.profile is not None:
            return self.profile
        if not (self.summaries or self.block_timings or self.copies is not None):
            return None
        return Profile(
            devices=tuple(self.summaries.values()),
            blocks=tuple(row for rows in self.block_timings.values() for row in rows),
            copies=self.copies or (),
            syncs=self.syncs or (),
            gil=self.gil,
            system=self.system,
        )

    def block_rows(self, path: str) -> list[BlockTiming]:
        """One block's timings on every device (an index, rebuilt when new timings arrive)."""
        key = tuple((device, id(rows)) for device, rows in self.block_timings.items())
        if key != self._index_key:
            self._index_key = key
            self._rows_by_path = {}
            for rows in self.block_timings.values():
                for row in rows:
                    self._rows_by_path.setdefault(row.path, []).append(row)
        return list(self._rows_by_path.get(path, ()))


def _by_device(rows: tuple[BlockTiming, ...]) -> dict[str, tuple[BlockTiming, ...]]:
    grouped: dict[str, list[BlockTiming]] = {}
    for row in rows:
        grouped.setdefault(row.device, []).append(row)
    return {device: tuple(items) for device, items in grouped.items()}
