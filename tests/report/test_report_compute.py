"""Issue 15: the example step's FLOPs, memory and --fit verdict in the JSON (top-level
``compute``, ``memory``, ``fit``; ``forward_flops``, ``backward_flops``, ``saved_bytes`` per
block) and as Compute, Memory and Fit sections of the Markdown and HTML reports."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from report_handmade import handmade_snapshot

from netscope.engine.api import take_snapshot
from netscope.engine.model import Compute, Memory, Snapshot
from netscope.engine.options import LoadOptions
from netscope.report.compute_tables import compute_tables
from netscope.report.html import render_html
from netscope.report.markdown import render_markdown
from netscope.report.values import fmt_flops, fmt_macs
from netscope.report.write import write_report

ROOT = Path(__file__).resolve().parents[2]
MLP = str(ROOT / "sample_models" / "mlp.py")  # Linear(20, 256) -> ReLU -> Linear(256, 10), batch 2
GIB = 2**30


def _validate(report: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "docs" / "schema.json").read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(report)
    ]
    assert errors == []


def _json(tmp_path: Path, snapshot: Snapshot) -> dict:
    return json.loads(Path(write_report(str(tmp_path / "report.json"), snapshot)).read_text())


@pytest.fixture(scope="module")
def train_snapshot() -> Snapshot:
    return take_snapshot(LoadOptions(MLP, train=True, optimizer="adamw", fit="24GiB"))


def test_train_report_has_the_step_figures(tmp_path, train_snapshot) -> None:
    report = _json(tmp_path, train_snapshot)
    _validate(report)
    # forward 2*2*20*256 + 2*2*256*10; backward: the first Linear's weight gradient only (its
    # input needs none), the second's weight and input gradients
    assert report["compute"] == {
        "forward_flops": 30720,
        "backward_flops": 20480 + 2 * 10240,
        "attention": None,
        "uncounted_ops": [
            {"op": op.op, "count": op.count} for op in train_snapshot.compute.uncounted_ops
        ],
    }
    assert {"op": "relu", "count": 1} in report["compute"]["uncounted_ops"]
    rows = {m["path"]: m for m in report["model"]["modules"]}
    figures = {
        p: (m["forward_flops"], m["backward_flops"], m["saved_bytes"]) for p, m in rows.items()
    }
    # saved: the first Linear's input (2x20 float32) and the ReLU's output (2x256), once each
    assert figures == {
        "": (30720, 40960, 160 + 2048),
        "0": (20480, 20480, 160),
        "1": (0, 0, 2048),
        "2": (10240, 20480, 0),
    }
    memory = report["memory"]
    params = (20 * 256 + 256 + 256 * 10 + 10) * 4
    assert memory["params_bytes"] == params and memory["grads_bytes"] == params
    assert memory["optimizer_bytes"] >= 2 * params  # AdamW: exp_avg and exp_avg_sq
    assert memory["optimizer"] == "adamw" and memory["activations_bytes"] == 2208
    assert memory["how"] == "measured" and memory["device"] == "cpu"
    assert memory["peak_bytes"] >= params * 2 and memory["peak_at"]
    assert memory["buffers_bytes"] == 0
    fit = report["fit"]
    assert fit["device"] == "24GiB" and fit["fits"] is True
    assert fit["capacity_bytes"] == 24 * GIB and fit["context_bytes"] == 0  # a size is a budget
    assert fit["margin_bytes"] == fit["capacity_bytes"] - fit["needed_bytes"]
    assert fit["step"] == "train (adamw)" and fit["batch"] == 2
    assert fit["max_batch"] >= fit["batch"]  # it fits at the example's batch


def test_markdown_and_html_have_the_sections(train_snapshot) -> None:
    text = render_markdown(train_snapshot)
    for heading in ("Compute", "Top blocks by FLOPs", "Memory", "Top blocks by saved", "Fit"):
        assert f"\n## {heading}" in text, heading
    assert text.index("## Compute") < text.index("## Memory") < text.index("## Fit")
    assert text.index("## Fit") < text.index("## Blocks")
    assert "| Forward | 30.7 kFLOP (15.4 kMAC) |" in text
    assert "| Backward | 41.0 kFLOP (20.5 kMAC) |" in text
    assert "| Attention | none (no scaled_dot_product_attention call) |" in text
    assert "relu ×1" in text
    assert "| `0` | Linear | 20.5 kFLOP | 20.5 kFLOP | 20.5 kFLOP | 66.7% | 1 |" in text
    assert "| `2` | Linear | 10.2 kFLOP | 20.5 kFLOP | 10.2 kFLOP | 33.3% | 1 |" in text
    assert "| Optimizer state | 62.1 KiB | adamw |" in text
    assert "| Saved activations | 2.2 KiB | saved for backward |" in text
    assert "| `1` | ReLU | 2.0 KiB | 2.0 KiB | 92.8% | 1 |" in text
    assert "Fits 24GiB: the train (adamw) step needs" in text and "24.0 GiB usable" in text
    page = render_html(train_snapshot)
    for heading in ("Compute", "Top blocks by FLOPs", "Memory", "Fit"):
        assert f"<h2>{heading}</h2>" in page, heading
    assert page.index("<h2>Fit</h2>") < page.index("<h2>Block tree</h2>")
    assert page.index("<h2>Block tree</h2>") < page.index("<h2>Blocks</h2>")
    assert '<td class="num">20.5 kFLOP</td>' in page and '<td class="num">66.7%</td>' in page
    assert "Fits 24GiB" in page


def test_a_model_without_an_example_input_has_no_step_figures(tmp_path) -> None:
    model = tmp_path / "no_input.py"
    model.write_text(
        "from torch import nn\n\n\ndef build_model():\n"
        "    return nn.Sequential(nn.Linear(3, 4), nn.ReLU())\n"
    )
    snapshot = take_snapshot(LoadOptions(str(model)))
    report = _json(tmp_path, snapshot)
    _validate(report)
    assert report["forward"]["ran"] is False
    assert report["compute"] is None and report["memory"] is None and report["fit"] is None
    for row in report["model"]["modules"]:
        assert (row["forward_flops"], row["backward_flops"], row["saved_bytes"]) == (None,) * 3
    text = render_markdown(snapshot)
    assert "n/a: no example forward ran, so no FLOPs were counted." in text
    assert "n/a: no example forward ran, so the step's memory was not measured." in text
    assert "## Top blocks" not in text and "## Fit" not in text
    assert " 0 FLOP" not in text


def test_a_meta_model_has_no_backward(tmp_path) -> None:
    snapshot = take_snapshot(
        LoadOptions(str(ROOT / "sample_models" / "big_transformer.py"), device="meta")
    )
    report = _json(tmp_path, snapshot)
    _validate(report)
    compute = report["compute"]
    assert compute["forward_flops"] > 10**12 and compute["backward_flops"] is None
    assert compute["attention"] == "causal"
    assert all(row["backward_flops"] is None for row in report["model"]["modules"])
    assert all(row["saved_bytes"] is None for row in report["model"]["modules"])
    memory = report["memory"]
    assert memory["how"] == "estimated" and memory["device"] == "meta"
    assert memory["grads_bytes"] is None and memory["activations_bytes"] is None
    text = render_markdown(snapshot)
    assert "| Backward | n/a (no backward ran) |" in text
    assert "| Gradients | n/a | no backward ran |" in text
    assert "| Saved activations | n/a | the forward ran without grad |" in text
    assert "## Top blocks by saved" not in text
    assert "TFLOP" in text and "| Attention | causal" in text


def test_a_checkpoint_alone_has_no_step_sections(tmp_path) -> None:
    import torch

    path = tmp_path / "state.pt"
    torch.save({"weight": torch.zeros(2, 3)}, path)
    snapshot = take_snapshot(LoadOptions(str(path)))
    report = _json(tmp_path, snapshot)
    assert report["kind"] == "checkpoint" and report["compute"] is None
    assert compute_tables(snapshot) == []


def test_flops_are_written_with_si_prefixes() -> None:
    assert fmt_flops(672) == "672 FLOP" and fmt_macs(672) == "336 MAC"
    assert fmt_flops(30720) == "30.7 kFLOP" and fmt_macs(30720) == "15.4 kMAC"
    assert fmt_flops(2_199_178_444_800) == "2.20 TFLOP"
    assert fmt_flops(199_400_000_000) == "199 GFLOP"
    assert fmt_flops(999_960) == "1.00 MFLOP"  # rounds up into the next prefix
    assert fmt_flops(0) == "0 FLOP"
    assert fmt_flops(None) == fmt_macs(None) == "n/a"


def test_memory_none_parts_read_na_never_zero() -> None:
    memory = Memory(1024, None, None, None, None, "", "estimated", "meta")
    snapshot = dataclasses.replace(
        handmade_snapshot(), memory=memory, compute=Compute(10, None, None), fit=None
    )
    text = render_markdown(snapshot)
    assert "| Gradients | n/a | no backward ran |" in text
    assert "| Optimizer state | n/a | no optimizer step (--train) |" in text
    assert "| Peak | n/a | not measured |" in text
    assert "## Fit" not in text and "## Top blocks by saved" not in text
