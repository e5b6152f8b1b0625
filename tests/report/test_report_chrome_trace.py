"""Chrome trace export: valid trace JSON, nested block slices per device, located instants."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest
from report_handmade import handmade_profile, handmade_snapshot

from netscope.report.chrome_trace import parent_path
from netscope.report.write import write_report

EPS = 1e-6


def _load(tmp_path: Path) -> dict:
    path = tmp_path / "run.trace.json"
    write_report(str(path), handmade_snapshot(), handmade_profile(), None)
    return json.loads(path.read_text())


def test_events_are_well_formed(tmp_path: Path) -> None:
    trace = _load(tmp_path)
    events = trace["traceEvents"]
    assert events
    for event in events:
        assert {"name", "ph", "pid", "tid"} <= event.keys()
        assert event["ph"] in {"X", "i", "M"}
        if event["ph"] == "X":
            assert event["ts"] >= 0 and event["dur"] >= 0
        if event["ph"] == "i":
            assert event["s"] == "t" and event["ts"] >= 0
    names = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert names == {"cpu", "cuda:0"}


def test_slices_nest_in_tree_order_per_device(tmp_path: Path) -> None:
    slices = defaultdict(list)
    for event in _load(tmp_path)["traceEvents"]:
        if event["ph"] == "X":
            slices[event["pid"]].append(event)
    assert len(slices) == 2
    for events in slices.values():
        by_path = {e["args"]["path"]: e for e in events}
        assert set(by_path) == {"", "0", "1", "2"}  # "lazy" never ran: no slice
        for path, event in by_path.items():
            parent = parent_path(path, set(by_path))
            if parent is None:
                continue
            outer = by_path[parent]
            assert outer["ts"] - EPS <= event["ts"]
            assert event["ts"] + event["dur"] <= outer["ts"] + outer["dur"] + EPS
        siblings = sorted((by_path[p] for p in ("0", "1", "2")), key=lambda e: e["ts"])
        assert [e["args"]["path"] for e in siblings] == ["0", "1", "2"]
        for left, right in itertools.pairwise(siblings):
            assert left["ts"] + left["dur"] <= right["ts"] + EPS
    cpu = {e["args"]["path"]: e for e in slices[1]}
    assert cpu[""]["dur"] == 200.0 and cpu["2"]["dur"] == 100.0  # microseconds


def test_copies_and_syncs_carry_bytes_and_locations(tmp_path: Path) -> None:
    instants = [e for e in _load(tmp_path)["traceEvents"] if e["ph"] == "i"]
    copies = [e for e in instants if e["args"]["kind"] == "copy"]
    syncs = [e for e in instants if e["args"]["kind"] == "sync"]
    assert {c["args"]["bytes"] for c in copies} == {128, 4}
    assert all(c["args"]["location"].startswith("sample_models/handmade.py:") for c in copies)
    assert {s["args"]["op"] for s in syncs} == {".item()", "bool(tensor)"}
    assert all(s["args"]["location"] for s in syncs)


def test_children_overflowing_their_parent_are_scaled_inside(tmp_path: Path) -> None:
    from dataclasses import replace

    from netscope.engine.model import BlockTiming
    from netscope.report.chrome_trace import trace_dict

    profile = replace(
        handmade_profile(),
        blocks=(
            BlockTiming("", "cpu", 1.0, 0.0, 1),
            BlockTiming("a", "cpu", 0.8, 0.8, 1),
            BlockTiming("a.b", "cpu", 0.9, 0.9, 1),  # noise: longer than its parent
            BlockTiming("c", "cpu", 0.6, 0.6, 1),
        ),
    )
    trace = trace_dict(None, profile)
    by_path = {e["args"]["path"]: e for e in trace["traceEvents"] if e["ph"] == "X"}
    assert by_path["a"]["ts"] + by_path["a"]["dur"] <= by_path["c"]["ts"] + EPS
    assert by_path["c"]["ts"] + by_path["c"]["dur"] <= 1000.0 + EPS
    assert by_path["a.b"]["dur"] <= by_path["a"]["dur"] + EPS
    assert by_path["a"]["args"]["self_ms"] == 0.0  # a.b, scaled, fills it: no self time drawn
    assert by_path[""]["args"]["self_ms"] == pytest.approx(0.0, abs=1e-5)  # 1 ns of rounding
