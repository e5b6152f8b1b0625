"""What the app has received so far from the profiler: one immutable value, one reducer.

The live path is message -> ``LiveState.after`` -> the screen's ``live`` reactive -> widgets
(bound with ``data_bind``), and nothing else changes it: a field that did not change keeps the
same object, so a widget redraws only when the part it shows is a new object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeVar

from netscope.app.messages import SystemUpdate, TimingUpdate
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

V = TypeVar("V")


@dataclass(frozen=True)
class SessionStarted:
    """A new profiling session: what the previous one measured is gone."""


@dataclass(frozen=True)
class NotMeasurable:
    """Nothing more will be measured, and why (``a checkpoint alone: no model to run``)."""

    reason: str


LiveEvent = wm.WorkerMessage | TimingUpdate | SystemUpdate | SessionStarted | NotMeasurable


def _mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


def _with(mapping: Mapping[str, V], updates: Mapping[str, V]) -> Mapping[str, V]:
    return MappingProxyType({**mapping, **updates})


class _TimingsIndex:
    """Block timings by path, rebuilt only when the timings mapping is a new object."""

    def __init__(self) -> None:
        self._source: Mapping[str, tuple[BlockTiming, ...]] | None = None
        self._by_path: dict[str, list[BlockTiming]] = {}

    def rows(self, timings: Mapping[str, tuple[BlockTiming, ...]]) -> dict[str, list[BlockTiming]]:
        if timings is not self._source:
            self._source, self._by_path = timings, {}
            for rows in timings.values():
                for row in rows:
                    self._by_path.setdefault(row.path, []).append(row)
        return self._by_path


@dataclass(frozen=True, eq=False)  # eq=False: reactives compare by identity, never 10,000 rows
class LiveState:
    """Results by kind; ``None`` means "not measured yet" (an empty tuple means "none found")."""

    windows: Mapping[str, tuple[float, ...]] = field(default_factory=_mapping)
    iterations: Mapping[str, int] = field(default_factory=_mapping)
    summaries: Mapping[str, TimingSummary] = field(default_factory=_mapping)
    block_timings: Mapping[str, tuple[BlockTiming, ...]] = field(default_factory=_mapping)
    copies: tuple[CopyFinding, ...] | None = None
    syncs: tuple[SyncFinding, ...] | None = None
    gil: GilReport | None = None
    system: SystemSample | None = None
    profile: Profile | None = None  # the final one, from Finished
    failed: str | None = None  # why what is missing stays missing ("profiling failed (stage)")
    # successive states share it (``replace`` keeps it): a key press on a 10,000-block model
    # must not re-index every block's timings because a step time arrived
    _index: _TimingsIndex = field(default_factory=lambda: _TimingsIndex(), repr=False)

    def after(self, event: LiveEvent) -> LiveState:
        """The state once ``event`` is recorded (self when it carries no result)."""
        if isinstance(event, SessionStarted):
            return LiveState()
        if isinstance(event, TimingUpdate):
            return replace(
                self,
                windows=_with(self.windows, {event.device: event.window}),
                iterations=_with(self.iterations, {event.device: event.iteration}),
            )
        if isinstance(event, SystemUpdate):
            return replace(self, system=event.sample)
        if isinstance(event, wm.TimingDone):
            return replace(
                self, summaries=_with(self.summaries, {event.summary.device: event.summary})
            )
        if isinstance(event, wm.BlockTimings):
            return replace(
                self, block_timings=_with(self.block_timings, {event.device: event.rows})
            )
        if isinstance(event, wm.CopiesFound):
            return replace(self, copies=event.rows)
        if isinstance(event, wm.SyncsFound):
            return replace(self, syncs=event.rows)
        if isinstance(event, wm.GilMeasured):
            return replace(self, gil=event.report)
        if isinstance(event, wm.WorkerError):
            stage = f" ({event.stage})" if event.stage else ""
            return replace(self, failed=f"profiling failed{stage}")
        if isinstance(event, NotMeasurable):
            return replace(self, failed=event.reason)
        if isinstance(event, wm.Finished) and event.profile is not None:
            profile = event.profile
            return replace(
                self,
                profile=profile,
                summaries=_with(self.summaries, {s.device: s for s in profile.devices}),
                block_timings=_with(self.block_timings, _by_device(profile.blocks)),
                copies=profile.copies,
                syncs=profile.syncs,
                gil=profile.gil or self.gil,
                system=profile.system or self.system,
            )
        return self

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
        """One block's timings on every device (indexed once per set of timings)."""
        return list(self._index.rows(self.block_timings).get(path, ()))

    def shows_other_results_than(self, other: LiveState) -> bool:
        """Do block timings, copies or syncs differ (what a block's details show)?"""
        return (
            self.block_timings is not other.block_timings
            or self.copies is not other.copies
            or self.syncs is not other.syncs
        )


def _by_device(rows: tuple[BlockTiming, ...]) -> dict[str, tuple[BlockTiming, ...]]:
    grouped: dict[str, list[BlockTiming]] = {}
    for row in rows:
        grouped.setdefault(row.device, []).append(row)
    return {device: tuple(items) for device, items in grouped.items()}
