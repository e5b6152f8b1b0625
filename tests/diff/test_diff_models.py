"""``diff_reports`` on pairs of real models: transformers GPT-2 (one more layer, wider, untied),
a CNN against a changed one (a block moved under a new parent, a wider conv), two checkpoints,
and checkpoint keys gained."""

from __future__ import annotations

from pathlib import Path

import torch

from netscope.engine.diff.baseline import BaselineLimits, baseline_violations, blocks_behind
from netscope.engine.diff.compare import diff_reports
from tests.diff.models import cnn_file, gpt2_file, report_of, write


def _by_path(diff):
    return {b.path: b for b in diff.blocks}


def test_gpt2_with_one_more_layer(tmp_path: Path):
    before = report_of(gpt2_file(tmp_path, "a.py", layers=2))
    after = report_of(gpt2_file(tmp_path, "b.py", layers=3))
    diff = diff_reports(before, after)
    blocks = _by_path(diff)
    added = [b.path for b in diff.blocks if b.status == "added"]
    assert "transformer.h.2" in added and all(p.startswith("transformer.h.2") for p in added)
    layer = blocks["transformer.h.2"]
    assert layer.type == "GPT2Block" and layer.params.before is None
    same_layer = blocks["transformer.h.1"]
    assert same_layer.status == "same"
    assert layer.params.after == same_layer.params.after  # the new layer is one more of those
    params = diff.total("params")
    assert params is not None and params.delta == layer.params.after
    assert diff.total("forward FLOPs").delta == layer.forward_flops.after
    assert not diff.ties_added and not diff.ties_removed  # wte/lm_head still tied
    assert diff.blocks[0].status != "same" and diff.blocks[-1].status == "same"
    assert blocks_behind(diff, lambda b: (b.params.after or 0) - (b.params.before or 0)) == (
        "transformer.h.2",
    )


def test_gpt2_wider_changes_every_projection_and_untied_loses_its_tie(tmp_path: Path):
    before = report_of(gpt2_file(tmp_path, "a.py", width=32))
    wider = diff_reports(before, report_of(gpt2_file(tmp_path, "w.py", width=48)))
    blocks = _by_path(wider)
    assert all(b.status != "added" and b.status != "removed" for b in wider.blocks)
    fc = blocks["transformer.h.0.mlp.c_fc"]
    assert fc.status == "changed" and fc.params.before == 32 * 128 + 128
    assert fc.params.after == 48 * 192 + 192
    assert fc.forward_flops.after > fc.forward_flops.before
    untied = diff_reports(before, report_of(gpt2_file(tmp_path, "u.py", tied=False)))
    assert untied.ties_removed == (("lm_head.weight", "transformer.wte.weight"),)
    params = untied.total("params")
    assert params is not None and params.delta == 64 * 32  # lm_head's weight now counted apart


def test_cnn_block_moved_under_a_new_parent_and_a_wider_conv(tmp_path: Path):
    before = report_of(cnn_file(tmp_path, "a.py"))
    moved = diff_reports(before, report_of(cnn_file(tmp_path, "m.py", moved=True)))
    blocks = _by_path(moved)
    assert blocks["trunk.0"].status == "moved" and blocks["trunk.0"].before_path == "conv2"
    assert blocks["trunk.0"].params.delta == 0
    assert blocks["trunk"].status == "added"
    assert "conv2" not in blocks  # matched, not listed as removed
    params = moved.total("params")
    assert params is not None and params.delta == 0
    wider = diff_reports(before, report_of(cnn_file(tmp_path, "w.py", wider=True)))
    conv = _by_path(wider)["conv2"]
    assert conv.status == "changed" and conv.params.delta == 8 * 8 * 9 + 8
    assert conv.forward_flops.after == 2 * conv.forward_flops.before  # twice the channels
    violations = baseline_violations(wider, BaselineLimits(max_params_growth=1.0))
    assert [v.gate for v in violations] == ["params growth"]
    assert violations[0].blocks[:2] == ("conv2", "head")


def test_two_checkpoints_and_the_keys_a_model_gained(tmp_path: Path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    full = model.state_dict()
    torch.save(full, tmp_path / "a.pt")
    grown = dict(full)
    grown["3.weight"] = torch.zeros(2, 2)
    grown["2.weight"] = torch.zeros(2, 16)
    torch.save(grown, tmp_path / "b.pt")
    diff = diff_reports(report_of(str(tmp_path / "a.pt")), report_of(str(tmp_path / "b.pt")))
    blocks = _by_path(diff)
    assert blocks["3"].status == "added" and blocks["3"].params.after == 4
    assert blocks["2"].status == "changed" and blocks["2"].params.delta == 16

    model_file = tmp_path / "seq.py"
    model_file.write_text(
        "import torch\n\ndef build_model():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), "
        "torch.nn.Linear(8, 2))\n"
    )
    partial = {k: v for k, v in full.items() if k != "2.bias"}
    torch.save(partial, tmp_path / "partial.pt")
    clean = report_of(str(model_file), weights=str(tmp_path / "a.pt"))
    missing = report_of(str(model_file), weights=str(tmp_path / "partial.pt"))
    keys = diff_reports(clean, missing).checkpoint
    assert [(k.field, k.gained, k.lost) for k in keys] == [("missing", ("2.bias",), ())]


def test_a_time_changes_only_beyond_both_ranges():
    from netscope.engine.diff.noise import scaled_change, time_change, verdict

    assert verdict(10.0, 30.0, (9.0, 11.0), (28.0, 32.0)) == "slower"
    assert verdict(10.0, 12.0, (9.0, 14.0), (10.0, 13.0)) == "within noise"
    # ranges apart while other processes kept the CPUs busy: not judged, either way
    assert verdict(10.0, 30.0, (9.0, 11.0), (28.0, 32.0), contended=True) == "contended"
    assert verdict(10.0, 12.0, (9.0, 14.0), (10.0, 13.0), contended=True) == "within noise"
    quiet = {"median_ms": 10.0, "p10_ms": 9.0, "p90_ms": 11.0, "other_cpu_pct": 3.0}
    busy = {"median_ms": 30.0, "p10_ms": 28.0, "p90_ms": 32.0, "other_cpu_pct": 81.0}
    assert time_change("cpu", quiet, {**busy, "other_cpu_pct": 2.0}).verdict == "slower"
    assert time_change("cpu", quiet, busy).verdict == "contended"
    assert verdict(10.0, 5.0, (9.0, 11.0), (4.0, 6.0)) == "faster"
    assert verdict(10.0, 30.0, None, (28.0, 32.0)) == "not available"
    # a block's time takes its step's relative spread: 20% is 10 +/- 1 ms
    assert scaled_change("cpu", 10.0, 11.5, 20.0, 20.0).verdict == "within noise"
    assert scaled_change("cpu", 10.0, 12.5, 20.0, 20.0).verdict == "slower"


def test_an_older_schema_1_report_without_the_newer_sections(tmp_path: Path):
    """Fields a schema-1 writer may lack (compute, memory, profile, per-block FLOPs and saved
    bytes came later) read as not available: no crash, never a 0."""
    new = report_of(gpt2_file(tmp_path, "a.py"))
    old = {k: v for k, v in new.items() if k not in ("compute", "memory", "fit", "profile")}
    old["model"] = dict(new["model"])
    old["model"]["modules"] = [
        {k: v for k, v in m.items() if k not in ("forward_flops", "backward_flops", "saved_bytes")}
        for m in new["model"]["modules"]
    ]
    diff = diff_reports(old, new)
    assert diff.total("forward FLOPs").before is None
    assert diff.total("forward FLOPs").after == new["compute"]["forward_flops"]
    assert diff.total("peak memory").before is None
    head = {b.path: b for b in diff.blocks}["lm_head"]
    assert head.forward_flops.before is None and head.params.delta == 0
    assert {b.status for b in diff.blocks} == {"changed"}  # a figure appeared, none moved
    violations = baseline_violations(diff, BaselineLimits(max_flops_growth=10.0))
    assert len(violations) == 1 and not violations[0].checkable  # cannot say: fails


def test_a_run_against_a_model_report_compares_the_steps_peaks(tmp_path: Path):
    """A run report's loop peak is the process's (RSS); a model report's is its step's. A diff
    of one against the other compares the two steps' peaks (each report's ``memory``), not the
    process's peak against a step's (an audit read "74.1 KiB -> 323.3 MiB")."""
    import json
    import subprocess
    import sys

    from tests.run.helpers import SCRIPTS

    source = (
        "import torch\nfrom torch import nn\n\n"
        "def build_model():\n"
        "    return nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256))\n\n"
        "def example_input():\n    return torch.randn(1024, 256)\n"
    )
    model = report_of(write(tmp_path, "regressor.py", source))
    out = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), "keeps_losses.py",
         "--keep", "item", "--steps", "8"],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())
    assert run["run"]["memory"]["peak_bytes"] > 10 * run["memory"]["peak_bytes"]  # RSS
    peak = diff_reports(model, run).total("peak memory")
    assert peak is not None
    assert (peak.before, peak.after) == (model["memory"]["peak_bytes"], run["memory"]["peak_bytes"])
