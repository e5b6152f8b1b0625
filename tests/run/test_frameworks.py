"""Real framework loops under ``netscope run``, written as each quickstart writes them (CPU, tiny
models): PyTorch Lightning, accelerate with gradient accumulation and the Hugging Face Trainer.
Each runs twice, plain and watched: the exit status and the printed losses are the same; the
report finds the model, counts the steps, times the phases where the framework nests them and
counts FLOPs per step equal to a hand count.

The hand count (2 x multiply-adds) of Linear(64, 256) -> ReLU -> Linear(256, 8) on a batch of
16: forward 2*16*64*256 + 2*16*256*8; backward the weight gradients of both layers and the input
gradient of the second (the first layer's input needs none).
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
FORWARD = 2 * 16 * 64 * 256 + 2 * 16 * 256 * 8
BACKWARD = 2 * 16 * 64 * 256 + 2 * (2 * 16 * 256 * 8)
SCHEMA = json.loads((SCRIPTS.parents[2] / "docs" / "schema.json").read_text())


def _both(tmp_path: Path, script: list[str], *options: str) -> tuple[str, dict]:
    """The script plain, then under ``netscope run -o``: the same status and the same losses."""
    import jsonschema

    plain = subprocess.run([sys.executable, *script], cwd=SCRIPTS, capture_output=True,
                           text=True, timeout=240)  # fmt: skip
    assert plain.returncode == 0, plain.stderr[-3000:]
    out = tmp_path / "run.json"
    watched = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "-o", str(out), *options, *script],
        cwd=SCRIPTS, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert watched.returncode == plain.returncode, watched.stderr[-3000:]
    losses = re.compile(r"^(?:step \d+ loss .*|\{'loss'.*|done)$", re.M)
    assert losses.findall(plain.stdout), plain.stdout
    assert losses.findall(watched.stdout) == losses.findall(plain.stdout)
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    run = report["run"]
    assert run["state"] == "finished" and run["exit_code"] == 0
    return watched.stdout, report


def _phases_add_up(run: dict) -> None:
    phases = run["phases_ms"]
    assert phases["forward"] > 0 and phases["backward"] > 0 and phases["optimizer"] > 0
    assert phases["forward"] + phases["backward"] + phases["optimizer"] <= 1.5 * sum(
        phases.values()
    )


def test_lightning_phases_come_from_the_forward_and_backward_inside_optimizer_step(tmp_path):
    """Lightning runs training_step inside optimizer.step(closure): the forward and backward
    are their own phases there (they read 0.0 before, the optimizer 100%)."""
    _, report = _both(tmp_path, ["lightning_train.py", "--steps", "40"])
    run = report["run"]
    assert run["steps"] == 40 and run["step_boundary"] == "optimizer.step"
    assert run["models"] == [{"class": "Regressor", "total_params": 18696, "role": "main"}]
    _phases_add_up(run)
    phases = run["phases_ms"]
    # the optimizer phase is optimizer.step's time less the forward and backward inside it:
    # an SGD step on 18,696 parameters is not where most of the step goes
    assert phases["optimizer"] < phases["forward"] + phases["backward"] + phases["other"] * 4
    assert run["flops_per_step"] == FORWARD + BACKWARD
    assert report["compute"]["forward_flops"] == FORWARD
    # the loss read every 10 steps in training_step, found in the early steps recorded in a row
    assert run["sampled_steps"] >= 10
    (sync,) = run["syncs"]
    assert sync["op"] == ".item()" and sync["location"] == line_of("lightning_train.py", ".item()")
    assert run["totals"]["sampled_steps"] == run["sampled_steps"]
    assert run["gil"] is not None and run["gil"]["beats"] > 0  # measured in a 40-step run


def test_accelerate_accumulation_its_loss_read_every_10_steps_is_found(tmp_path):
    """accelerate, 2 micro-batches per optimizer step, the loss read every 10 of a 40-step run
    (the sampling of 1 step in 105-440 missed it and said 0 syncs). On the CPU the read is the
    sync it would be on CUDA (the loss is computed from the model's output)."""
    _, report = _both(tmp_path, ["accelerate_accumulate.py", "--steps", "40"])
    run = report["run"]
    assert run["steps"] == 40 and run["step_boundary"] == "optimizer.step"
    assert run["models"] == [{"class": "Sequential", "total_params": 18696, "role": "main"}]
    assert run["model_calls_per_step"] == 2
    assert run["flops_per_step"] == 2 * (FORWARD + BACKWARD)  # both micro-batches
    _phases_add_up(run)
    places = [(s["op"], s["location"]) for s in run["syncs"]]
    assert places == [(".item()", line_of("accelerate_accumulate.py", "loss.item()"))], places
    sync = run["syncs"][0]
    assert 1 <= sync["seen_steps"] <= sync["sampled_steps"] == run["sampled_steps"] >= 10
    assert 0 < run["totals"]["syncs_per_step"] < 1  # a read every 10 steps, not every step


def test_hf_trainer_steps_flops_and_its_own_syncs_at_their_lines(tmp_path):
    """The Trainer checks the loss for nan/inf twice a step (transformers' trainer.py) and
    reads it when it logs (every 10 steps)."""
    _, report = _both(tmp_path, ["hf_trainer_train.py", "--steps", "30"])
    run = report["run"]
    assert run["steps"] == 30 and run["step_boundary"] == "optimizer.step"
    assert run["models"] == [{"class": "Regressor", "total_params": 18696, "role": "main"}]
    assert run["flops_per_step"] == FORWARD + BACKWARD
    _phases_add_up(run)
    every_step = [s for s in run["syncs"] if s["per_step"] == 2.0]
    assert len(every_step) == 1 and every_step[0]["op"] == "bool(tensor) / if tensor:"
    assert re.search(r"transformers/trainer\.py:\d+$", every_step[0]["location"])
    places = [(s["op"], s["location"], s["per_step"]) for s in run["syncs"]]
    assert all("transformers/" in s["location"] for s in run["syncs"]), places
    uncounted = {op["op"] for op in report["compute"]["uncounted_ops"]}
    assert not any(op.startswith("profiler.") for op in uncounted)


def test_sliced_batches_count_the_slice_not_the_token_tensor_behind_it(tmp_path):
    """Batches are views of one 12.8 MB token tensor made before the loop: the Embedding saves
    its 512 int64 indices (4 KB), the head its 512 x 32 float input (64 KB)."""
    _, report = _both(tmp_path, ["sliced_batches.py"])
    saved = {m["path"]: m["saved_bytes"] for m in report["model"]["modules"]}
    assert saved == {"": 4096 + 65536, "embed": 4096, "head": 65536}
    memory = report["memory"]
    assert memory["activations_bytes"] == 4096 + 65536
    assert memory["peak_bytes"] < 2 * 1024 * 1024  # the token tensor is not the step's


def test_every_1_records_every_step_and_a_short_run_says_what_it_did_not_measure(tmp_path):
    _, report = _both(tmp_path, ["sliced_batches.py", "--steps", "12"], "--every", "1")
    run = report["run"]
    assert run["steps"] == 12
    assert run["sampled_steps"] == 12 - 3  # 1 plain, 2 counted, 3 warms the detectors up
    assert run["step_ms"]["p10"] < run["step_ms"]["p90"]  # from every step, not one
    notes = " ".join(run["notes"])
    assert "over all 12 steps" in notes
    assert run["gil"] is None and "GIL" in notes  # every step was sampled: said, not a null
