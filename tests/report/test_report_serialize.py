"""The JSON contract: stable names of issue 2 section 4 and issue 3 section 8, null for n/a."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from report_handmade import handmade_profile, handmade_snapshot

from netscope.report.json_report import render_json
from netscope.report.serialize import SCHEMA_VERSION, report_dict
from netscope.report.values import num

MODULE_KEYS = {
    "path",
    "type",
    "custom",
    "source",
    "params",
    "total_params",
    "calls",
    "output_shapes",
}
PARAM_KEYS = {"name", "shape", "dtype", "device", "numel", "requires_grad", "initialized", "stats"}
PARAM_KEYS |= {"grad"}


def test_contract_names_of_the_model_section() -> None:
    report = json.loads(render_json(handmade_snapshot()))
    assert report["schema_version"] == SCHEMA_VERSION == 1
    model = report["model"]
    assert model["class"] == "SharedNet"
    assert model["total_params"] == 129 and model["trainable_params"] == 129
    assert all(module.keys() >= MODULE_KEYS for module in model["modules"])
    assert all(param.keys() >= PARAM_KEYS for param in model["parameters"])
    assert model["ties"] == [["2.weight", "4.weight"], ["2.bias", "4.bias"]]
    assert model["unregistered_tensors"] == [
        {"module": "", "attribute": "rand_weight", "shape": [8, 8], "dtype": "float32",
         "device": "cpu"}
    ]  # fmt: skip
    assert report["profile"] is None


def test_checkpoint_section() -> None:
    checkpoint = report_dict(handmade_snapshot())["checkpoint"]
    assert checkpoint["missing"] == ["6.bias"]
    assert checkpoint["unexpected"] == ["head.weight"]
    assert checkpoint["mismatched"][0]["key"] == "0.weight"
    assert checkpoint["mismatched"][0]["model_shape"] == [8, 4]
    assert checkpoint["mismatched"][0]["checkpoint_shape"] == [8, 5]
    assert checkpoint["covered_by_tie"][0] == {"key": "4.weight", "stored_as": "2.weight"}
    no_checkpoint = replace(handmade_snapshot(), checkpoint=None)
    assert report_dict(no_checkpoint)["checkpoint"] is None


def test_not_available_is_null_never_zero() -> None:
    model = report_dict(handmade_snapshot())["model"]
    lazy = next(p for p in model["parameters"] if p["name"] == "lazy.weight")
    assert lazy["shape"] is None and lazy["numel"] is None and lazy["initialized"] is False
    assert lazy["stats"] is None and lazy["grad"] is None
    unused = next(p for p in model["parameters"] if p["name"] == "6.weight")
    assert unused["grad"]["present"] is False and unused["grad"]["norm"] is None
    assert unused["unused"] is True


def test_non_finite_floats_become_null_and_json_stays_strict() -> None:
    assert num(math.nan) is None and num(math.inf) is None and num(None) is None
    assert num(0.123456789) == 0.123457 and num(0.0) == 0.0
    snapshot = handmade_snapshot()
    bad = replace(snapshot.parameters[0].stats, mean=math.nan, max=math.inf, nan=3, inf=1)
    params = (replace(snapshot.parameters[0], stats=bad), *snapshot.parameters[1:])
    text = render_json(replace(snapshot, parameters=params))
    stats = json.loads(text)["model"]["parameters"][0]["stats"]
    assert stats["mean"] is None and stats["max"] is None and stats["nan"] == 3
    assert "NaN" not in text and "Infinity" not in text


def test_contract_names_of_the_profile_section() -> None:
    profile = json.loads(render_json(handmade_snapshot(), handmade_profile()))["profile"]
    assert set(profile["devices"]) == {"cpu", "cuda:0"}
    for timing in profile["devices"].values():
        assert {"median_ms", "p10_ms", "p90_ms", "runs", "min_ms", "max_ms"} <= timing.keys()
    assert profile["devices"]["cpu"]["median_ms"] == 0.2095
    block = next(b for b in profile["blocks"] if b["path"] == "2")
    assert block["inclusive_ms"] == {"cpu": 0.1, "cuda:0": 0.025}
    assert block["self_ms"] == {"cpu": 0.1, "cuda:0": 0.025}
    lazy = next(b for b in profile["blocks"] if b["path"] == "lazy")
    assert lazy["inclusive_ms"] == {"cpu": None, "cuda:0": None}
    copy = profile["copies"][0]
    assert {"direction", "bytes", "count", "block", "location"} <= copy.keys()
    assert copy["location"] == "sample_models/handmade.py:40"
    syncs = profile["syncs"]
    assert all(
        {"op", "reason", "count", "block", "location", "stall_ms"} <= s.keys() for s in syncs
    )
    assert syncs[0]["stall_ms"] == 0.0123 and syncs[1]["stall_ms"] is None
    assert profile["gil"]["p99_ms"] == 0.9 and profile["gil"]["beats"] == 412
    assert profile["cpu_over_gpu"] == 4.19
    assert profile["totals"] == {"copies": 33, "copy_bytes": 132, "syncs": 5}
