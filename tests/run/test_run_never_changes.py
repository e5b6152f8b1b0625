"""netscope run never changes the training it watches: the same losses and final weights, bit for
bit, with and without it, on real two-rank jobs (torchrun, gloo, CPU): DDP with gradient
accumulation and no_sync(), FSDP2, DTensor tensor parallelism, accelerate, and PyTorch Lightning's
DDP under its own launcher and under torchrun. Each script prints every loss with ten decimals
and a digest of each rank's own tensors at the end (tests/run/scripts/weights_digest.py).

FLOPs per step are the rank's own, checked against a hand count (2 x multiply-adds; the first
layer has no input gradient).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.run.helpers import SCRIPTS, line_of, run_headless

pytestmark = pytest.mark.slow
LOSS = re.compile(r"rank (\d+) (?:step|micro) (\d+) loss ([0-9.]+)")
WEIGHTS = re.compile(r"rank (\d+) weights ([0-9a-f]{16})")
SCHEMA = json.loads((SCRIPTS.parents[2] / "docs" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


def _outcome(text: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Every (rank, step, loss) and (rank, digest), sorted: the ranks' lines interleave."""
    losses, weights = sorted(LOSS.findall(text)), sorted(WEIGHTS.findall(text))
    assert losses and weights, text[-3000:]
    return losses, weights


def _run(command: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        command, cwd=SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:  # a hung job: end its whole process group
            os.killpg(process.pid, 9)
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _compare(tmp_path: Path, plain: list[str], script: list[str], nproc: bool = True) -> dict:
    """Run ``plain`` and the same script under ``netscope run``: identical, or fail."""
    ranks = 2 if nproc or "lightning" in script[0] else 1
    report_path = tmp_path / "run.json"
    watched = [sys.executable, "-m", "netscope", "run", "-o", str(report_path)]
    if nproc:
        watched += ["--nproc-per-node", "2"]
    alone = _run([*plain, *script])
    assert alone.returncode == 0, alone.stderr[-3000:]
    under = _run([*watched, *script])
    assert under.returncode == alone.returncode, under.stderr[-3000:]
    assert _outcome(under.stdout) == _outcome(alone.stdout)
    assert len(_outcome(alone.stdout)[1]) == ranks  # every rank's digest
    report = json.loads(report_path.read_text())
    run = report["run"]
    assert run["state"] == "finished" and run["exit_code"] == 0
    assert not any("failed" in note for note in run["notes"] if "snapshot" not in note), run
    return report


def _forward(batch: int, *layers: tuple[int, int]) -> int:
    return sum(2 * batch * fan_in * fan_out for fan_in, fan_out in layers)


def test_ddp_with_gradient_accumulation_and_no_sync_is_unchanged(tmp_path):
    report = _compare(tmp_path, TORCHRUN, ["ddp_accumulate.py", "--steps", "40"])
    run = report["run"]
    # the tree is the module inside DistributedDataParallel, paths without "module.", and so
    # are the block times; the root is called once per call of the model, as its blocks are
    # (DDP's own call of it was counted a second time)
    modules = [m["path"] for m in report["model"]["modules"]]
    assert modules == ["", "0", "1", "2", "3"]
    timed = {b["path"] for b in run["blocks"]}
    assert timed and timed <= set(modules), timed
    rows = {m["path"]: m for m in report["model"]["modules"]}  # own figures from the step's
    assert rows[""]["calls"] == rows["0"]["calls"] == 1
    assert rows[""]["self_forward_flops"] == 0 and rows["0"]["self_forward_flops"] == 2 * 8192
    assert "DistributedDataParallel" in report["forward"]["note"]
    assert run["models"][0]["class"] == report["model"]["class"] == "Sequential"  # not DDP
    assert report["forward"]["ran"] is False  # netscope ran no forward of its own
    # two micro-batches of 8, Linear(16, 32) and Linear(32, 4): forward, and a backward of 2x
    # forward less the first layer's input gradient
    forward = _forward(8, (16, 32), (32, 4))
    backward = 2 * forward - _forward(8, (16, 32))
    assert run["flops_per_step"] == 2 * (forward + backward)
    assert report["compute"]["forward_flops"] == 2 * forward
    memory = report["memory"]
    params = (16 * 32 + 32 + 32 * 4 + 4) * 4
    assert memory["params_bytes"] == params and memory["grads_bytes"] == params
    assert memory["optimizer_bytes"] == 2 * params + 4 * 4  # AdamW: two moments, a step each


def test_fsdp2_is_unchanged_and_counts_the_whole_model_on_the_local_batch(tmp_path):
    report = _compare(tmp_path, TORCHRUN, ["fsdp2_train.py", "--steps", "3"])
    run = report["run"]
    # FSDP: every rank runs the whole model's math on its own batch of 8
    blocks = [(32, 32)] * 4
    forward = _forward(8, *blocks, (32, 4))
    backward = 2 * forward - _forward(8, (32, 32))
    assert run["flops_per_step"] == forward + backward
    assert run["models"] and run["models"][0]["role"] == "main"
    # each rank holds half of every weight and bias (dim 0): 4 x (16 x 32 + 16) + 2 x 32 + 2
    local = (4 * (16 * 32 + 16) + 2 * 32 + 2) * 4
    for rank in run["ranks"]:
        memory = rank["memory"]
        assert memory["params_bytes"] == local and memory["grads_bytes"] == local, rank
        assert memory["optimizer_bytes"] == 2 * local + 10 * 4  # moments on shards, 10 steps
        assert memory["peak_bytes"] > 4 * local and memory["activations_bytes"] > 0
        assert rank["flops_per_step"] == forward + backward  # each rank's own step
    assert report["memory"] == run["ranks"][0]["memory"]  # the run's are rank 0's
    # the classes the script wrote, not fully_shard's generated FSDPNet
    assert report["model"]["class"] == "Net" and run["models"][0]["class"] == "Net"
    assert not any(m["type"].startswith("FSDP") for m in report["model"]["modules"])
    # the gradients the script's backward left, of this rank's shards (no gather): present
    assert all(p["grad"] and p["grad"]["present"] for p in report["model"]["parameters"])
    errors = list(VALIDATOR.iter_errors(report))
    assert not errors, [e.message for e in errors]


def test_tensor_parallel_is_unchanged_and_counts_the_local_shards(tmp_path):
    report = _compare(tmp_path, TORCHRUN, ["tp_train.py", "--steps", "12"])
    # the loss printed every step is a sync: its value comes out of the last block's local
    # shard (RowwiseParallel's to_local()), which would sit on the device (it went unseen)
    item = line_of("tp_train.py", "loss.item()")
    for rank in report["run"]["ranks"]:
        syncs = [(s["op"], s["location"]) for s in rank["syncs"]]
        assert (".item()", item) in syncs, syncs
    # ColwiseParallel up (16 -> 64: 32 columns here), RowwiseParallel down (32 of 64 rows -> 16)
    forward = _forward(8, (16, 32), (32, 16))
    backward = 2 * forward - _forward(8, (16, 32))
    assert report["run"]["flops_per_step"] == forward + backward
    assert [r["flops_per_step"] for r in report["run"]["ranks"]] == [forward + backward] * 2


def test_accelerate_is_unchanged(tmp_path):
    report = _compare(tmp_path, TORCHRUN, ["accelerate_train.py", "--steps", "4"])
    assert [m["path"] for m in report["model"]["modules"]] == ["", "0", "1", "2"]
    forward = _forward(8, (16, 32), (32, 4))
    backward = 2 * forward - _forward(8, (16, 32))
    assert report["run"]["flops_per_step"] == 2 * (forward + backward)  # accumulation of 2


@pytest.mark.parametrize("launcher", ["lightning", "torchrun"])
def test_lightning_ddp_is_unchanged_under_either_launcher(tmp_path, launcher):
    if launcher == "lightning":  # Lightning starts rank 1 itself, by re-running the script
        report = _compare(tmp_path, [sys.executable], ["lightning_ddp.py"], nproc=False)
    else:
        report = _compare(tmp_path, TORCHRUN, ["lightning_ddp.py"])
    assert [m["path"] for m in report["model"]["modules"]] == ["", "net", "net.0", "net.1", "net.2"]
    run = report["run"]
    assert run["steps"] == 6
    forward = _forward(8, (16, 32), (32, 4))
    assert run["flops_per_step"] == 2 * forward - _forward(8, (16, 32)) + forward


def test_a_compiled_model_is_unchanged_shown_as_its_original_module_and_not_counted(tmp_path):
    report = _compare(tmp_path, [sys.executable], ["compiled_train.py"], nproc=False)
    assert [m["path"] for m in report["model"]["modules"]] == ["", "0", "1", "2"]
    assert "OptimizedModule" in report["forward"]["note"]
    run = report["run"]
    assert run["flops_per_step"] is None  # counting would change what dynamo runs: said so
    assert any("torch.compile'd" in note for note in run["notes"])


def test_an_evaluation_under_no_grad_first_is_not_the_training_step(tmp_path):
    done, report = run_headless(tmp_path, ["--peak-tflops", "1", "eval_then_train.py"])
    assert done.returncode == 0, done.stderr
    run = report["run"]
    assert run["step_boundary"] == "optimizer.step"
    forward = _forward(16, (64, 128), (128, 64))
    backward = 2 * forward - _forward(16, (64, 128))
    assert report["compute"] == {**report["compute"], "forward_flops": forward}
    assert run["flops_per_step"] == forward + backward
    assert run["mfu"] is not None and run["mfu"] > 0
    assert report["forward"]["backward_ran"] is True
    memory = report["memory"]
    params = (64 * 128 + 128 + 128 * 64 + 64) * 4
    assert memory["optimizer"] == "adamw"
    assert memory["optimizer_bytes"] == 2 * params + 4 * 4  # the script's own AdamW state
    assert memory["grads_bytes"] == params and memory["activations_bytes"] > 0
    assert memory["peak_bytes"] >= 4 * params  # weights, gradients and both moments at least
