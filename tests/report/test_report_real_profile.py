"""Reports over a real profile from the worker subprocess (sample_models/mlp.py on the CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.engine.worker.session import run_profile
from netscope.report.write import write_report

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_real_profile_in_every_format(tmp_path: Path) -> None:
    load = LoadOptions(target=str(REPO / "sample_models" / "mlp.py"))
    snapshot, profile = run_profile(load, ProfileOptions(min_runs=3, max_seconds=0.3))
    for name in ("r.json", "r.md", "r.html", "r.trace.json"):
        write_report(str(tmp_path / name), snapshot, profile, None)

    section = json.loads((tmp_path / "r.json").read_text())["profile"]
    cpu = section["devices"]["cpu"]
    assert cpu["runs"] >= 3 and cpu["p10_ms"] <= cpu["median_ms"] <= cpu["p90_ms"]
    paths = {block["path"] for block in section["blocks"]}
    assert {"0", "1", "2"} <= paths
    assert all(block["inclusive_ms"]["cpu"] is not None for block in section["blocks"])

    trace = json.loads((tmp_path / "r.trace.json").read_text())
    slices = {e["args"]["path"]: e for e in trace["traceEvents"] if e["ph"] == "X"}
    assert {"0", "1", "2"} <= slices.keys()
    ends = [slices[p]["ts"] + slices[p]["dur"] for p in ("0", "1")]
    assert ends[0] <= slices["1"]["ts"] + 1e-6 and ends[1] <= slices["2"]["ts"] + 1e-6
    assert "<svg" in (tmp_path / "r.html").read_text()
