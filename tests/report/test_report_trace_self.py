"""The Chrome trace of a real profile: each block slice's ``self_ms`` is its slice less its
children's slices as drawn (sample_models/nest_mlp.py, profiled by the worker subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.worker.session import run_profile
from netscope.report.chrome_trace import parent_path
from netscope.report.write import write_report

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_slices_self_time_is_what_the_trace_draws(tmp_path: Path) -> None:
    load = LoadOptions(target=str(REPO / "sample_models" / "nest_mlp.py"))
    snapshot, profile = run_profile(load, ProfileOptions(min_runs=3, max_seconds=0.3))
    write_report(str(tmp_path / "r.trace.json"), snapshot, profile, None)
    trace = json.loads((tmp_path / "r.trace.json").read_text())
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    by_path = {e["args"]["path"]: e for e in slices}
    assert {"", "0", "0.net", "0.net.0", "1"} <= by_path.keys()
    drawn = set(by_path)
    for path, event in by_path.items():
        inside = [e for p, e in by_path.items() if p != path and parent_path(p, drawn) == path]
        self_us = event["dur"] - sum(e["dur"] for e in inside)
        assert event["args"]["self_ms"] * 1000 == pytest.approx(self_us, rel=1e-5, abs=1e-3), path
        assert event["args"]["inclusive_ms"] * 1000 == pytest.approx(event["dur"], rel=1e-5)
