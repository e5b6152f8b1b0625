"""Chrome trace / Perfetto JSON: blocks as nested slices per device, copies and syncs as instants.

Block times come from the hooked pass as inclusive totals, not timestamps, so the trace lays
blocks out in tree order: a block starts where its previous sibling ended, children inside their
parent (scaled down if measurement noise makes them overflow it). Durations are the measured
inclusive times (but for scaled ones); start times are a layout. Each slice's ``args`` say what
is drawn: ``inclusive_ms`` its duration, ``self_ms`` that less its children's slices. Times are
integer nanoseconds internally so nesting and self times are exact.
"""

from __future__ import annotations

import json
from typing import Any

from netscope import __version__
from netscope.engine.model import BlockTiming, Profile, Snapshot
from netscope.report.profile_tables import device_order
from netscope.report.serialize import SCHEMA_VERSION
from netscope.report.serialize_profile import copy_dict, sync_dict
from netscope.report.values import num

BLOCK_TID = 1


def parent_path(path: str, known: set[str]) -> str | None:
    """Nearest proper dotted prefix present in ``known``; top-level blocks hang under ""."""
    if path == "":
        return None
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in known:
            return prefix
    return ""


def _children(snapshot: Snapshot | None, profile: Profile) -> dict[str, list[str]]:
    order = [b.path for b in snapshot.blocks] if snapshot is not None else []
    order += [b.path for b in profile.blocks]
    order = list(dict.fromkeys(["", *order]))
    known = set(order)
    children: dict[str, list[str]] = {path: [] for path in order}
    for path in order:
        parent = parent_path(path, known)
        if parent is not None:
            children[parent].append(path)
    return children


class _DeviceLayout:
    """Lays out one device's block slices."""

    def __init__(self, device: str, pid: int, timings: dict[str, BlockTiming], children, names):
        self.device, self.pid, self.timings = device, pid, timings
        self.children, self.names = children, names
        self.events: list[dict[str, Any]] = []
        self.starts: dict[str, int] = {}
        self._natural: dict[str, int] = {}

    def natural_ns(self, path: str) -> int:
        if path not in self._natural:
            timing = self.timings.get(path)
            if timing is not None and timing.inclusive_ms is not None:
                value = round(timing.inclusive_ms * 1_000_000)
            else:
                value = sum(self.natural_ns(kid) for kid in self.children[path])
            self._natural[path] = max(value, 0)
        return self._natural[path]

    def place(self, path: str, start: int, duration: int) -> int:
        """Lays out ``path``'s subtree from ``start`` in ``duration`` ns; returns the ns its
        topmost slices cover. A slice's ``self_ms`` is its duration less its children's slices,
        as drawn (scaled ones included), so the figure and the picture are one computation."""
        timing = self.timings.get(path)
        self.starts[path] = start
        args: dict[str, Any] | None = None
        if timing is not None and timing.inclusive_ms is not None:
            args = {"path": path, "inclusive_ms": num(duration / 1_000_000), "calls": timing.calls}
            self.events.append(
                {
                    "name": self.names.get(path) or path,
                    "cat": "block",
                    "ph": "X",
                    "ts": start / 1000,
                    "dur": duration / 1000,
                    "pid": self.pid,
                    "tid": BLOCK_TID,
                    "args": args,
                }
            )
        kids = [kid for kid in self.children[path] if self.natural_ns(kid) > 0]
        total = sum(self.natural_ns(kid) for kid in kids)
        cursor, covered = start, 0
        for kid in kids:
            share = self.natural_ns(kid)
            if total > duration:
                share = share * duration // total
            covered += self.place(kid, cursor, share)
            cursor += share
        if args is None:
            return covered
        args["self_ms"] = num((duration - covered) / 1_000_000)  # the event is already listed
        return duration


def _metadata(pid: int, device: str) -> list[dict[str, Any]]:
    return [
        {"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": device}},
        {
            "name": "process_sort_index",
            "ph": "M",
            "pid": pid,
            "tid": 0,
            "args": {"sort_index": pid},
        },
        {
            "name": "thread_name",
            "ph": "M",
            "pid": pid,
            "tid": BLOCK_TID,
            "args": {"name": "blocks (hooked pass)"},
        },
    ]


def _instant(name: str, layout: _DeviceLayout | None, pid: int, block: str, args) -> dict:
    start = layout.starts.get(block, 0) if layout is not None else 0
    return {
        "name": name,
        "cat": args["kind"],
        "ph": "i",
        "s": "t",
        "ts": start / 1000,
        "pid": pid,
        "tid": BLOCK_TID,
        "args": args,
    }


def trace_dict(snapshot: Snapshot | None, profile: Profile) -> dict[str, Any]:
    """The trace as a dict with ``traceEvents``; ``ts``/``dur`` in microseconds."""
    devices = device_order(profile) or ["cpu"]
    pids = {device: index + 1 for index, device in enumerate(devices)}
    children = _children(snapshot, profile)
    blocks = snapshot.blocks if snapshot is not None else ()
    names = {b.path: f"{b.path} ({b.type})" if b.path else b.type for b in blocks}
    events: list[dict[str, Any]] = []
    layouts: dict[str, _DeviceLayout] = {}
    for device in devices:
        events += _metadata(pids[device], device)
        timings = {b.path: b for b in profile.blocks if b.device == device}
        layout = _DeviceLayout(device, pids[device], timings, children, names)
        layout.place("", 0, layout.natural_ns(""))
        events += layout.events
        layouts[device] = layout
    copy_device = next((d for d in devices if d != "cpu"), devices[0])
    for c in profile.copies:
        args = {"kind": "copy", **copy_dict(c)}
        name = f"copy {c.direction} {c.bytes} B x{c.count}"
        events.append(_instant(name, layouts.get(copy_device), pids[copy_device], c.block, args))
    for s in profile.syncs:
        device = s.device if s.device in pids else devices[0]
        args = {"kind": "sync", **sync_dict(s)}
        events.append(
            _instant(f"sync {s.op} x{s.count}", layouts.get(device), pids[device], s.block, args)
        )
    other = {
        "netscope_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "step": profile.step,
    }
    if snapshot is not None:
        other |= {"target": snapshot.target, "model_class": snapshot.model_class}
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": other}


def render_chrome_trace(snapshot: Snapshot | None, profile: Profile) -> str:
    return json.dumps(trace_dict(snapshot, profile), allow_nan=False) + "\n"
