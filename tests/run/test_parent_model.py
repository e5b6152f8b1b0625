"""A loop that never calls its model, only the model's blocks: Lightning's quickstart autoencoder
(``training_step`` runs ``self.encoder(x)`` then ``self.decoder(z)``) and a plain loop calling
``model.encoder(x)`` then ``model.decoder(z)``. The model found is the parent (the LightningModule,
the script's ``model``), one call per step, its FLOPs per step those of the whole step.

The hand count (2 x multiply-adds) of encoder Linear(64, 32) -> ReLU -> Linear(32, 8), decoder
Linear(8, 32) -> ReLU -> Linear(32, 64), batch 16: forward 2*16*in*out per Linear; backward twice
that per Linear (weight and input gradients) but the first, whose input needs no gradient.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run.helpers import SCRIPTS, line_of

pytestmark = pytest.mark.slow
LINEARS = [(64, 32), (32, 8), (8, 32), (32, 64)]
FORWARD = sum(2 * 16 * i * o for i, o in LINEARS)
BACKWARD = 2 * FORWARD - 2 * 16 * 64 * 32
LOSSES = re.compile(r"^(?:step \d+ loss .*|done)$", re.M)


def _plain_and_watched(tmp_path: Path, script: str) -> dict:
    """The script alone, then under ``netscope run -o``: same status, same losses; the report."""
    alone = subprocess.run([sys.executable, script], cwd=SCRIPTS, capture_output=True,
                           text=True, timeout=240)  # fmt: skip
    assert alone.returncode == 0, alone.stderr[-3000:]
    out = tmp_path / "run.json"
    watched = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), script],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert watched.returncode == 0, watched.stderr[-3000:]
    assert LOSSES.findall(alone.stdout)
    assert LOSSES.findall(watched.stdout) == LOSSES.findall(alone.stdout)
    return json.loads(out.read_text())


def _whole_step_counted(report: dict, cls: str, params: int) -> None:
    run = report["run"]
    assert run["models"] == [{"class": cls, "total_params": params, "role": "main"}]
    assert report["model"]["class"] == cls
    assert run["step_boundary"] == "optimizer.step"
    assert run["model_calls_per_step"] == 1.0  # the encoder and the decoder: one call
    assert run["flops_per_step"] == FORWARD + BACKWARD
    assert report["compute"]["forward_flops"] == FORWARD
    blocks = {b["path"]: b for b in report["model"]["modules"]}
    assert blocks["encoder"]["forward_flops"] == 2 * 16 * (64 * 32 + 32 * 8)
    assert blocks["decoder"]["forward_flops"] == 2 * 16 * (8 * 32 + 32 * 64)
    assert blocks["decoder.2"]["backward_flops"] == 2 * 2 * 16 * 32 * 64
    assert blocks["encoder.0"]["backward_flops"] == 2 * 16 * 64 * 32  # weight gradient only
    memory = report["memory"]
    # the whole step: the encoder's activations are still held while the decoder runs
    assert memory["activations_bytes"] == blocks[""]["saved_bytes"]
    assert memory["activations_bytes"] == (
        blocks["encoder"]["saved_bytes"] + blocks["decoder"]["saved_bytes"]
    )
    assert blocks["encoder"]["saved_bytes"] > 0 and blocks["decoder"]["saved_bytes"] > 0
    assert memory["grads_bytes"] == memory["params_bytes"] == params * 4


def test_lightning_training_step_calling_its_blocks_finds_the_lightning_module(tmp_path):
    report = _plain_and_watched(tmp_path, "lightning_autoencoder.py")
    _whole_step_counted(report, "LitAutoEncoder", 4744)
    run = report["run"]
    assert run["steps"] == 30
    # Adam's two moments and a 4-byte step count per parameter tensor (8 of them)
    assert report["memory"]["optimizer_bytes"] == 2 * 4744 * 4 + 8 * 4
    (sync,) = run["syncs"]  # the loss read in training_step, at its line
    assert sync["location"] == line_of("lightning_autoencoder.py", ".item()")


def test_a_plain_loop_calling_its_models_blocks_finds_the_model(tmp_path):
    report = _plain_and_watched(tmp_path, "parent_loop.py")
    _whole_step_counted(report, "AutoEncoder", 4744)
    assert report["run"]["steps"] == 20
