"""FSDP over a tensor-parallel model (a 2-D mesh: ``--shard fsdp --tp 2``), replayed with torch's
``parallelize_module`` over the tp dimension then ``fully_shard`` over dp, against a real
four-rank run of the same (torchrun, gloo, CPU; benchmarks/plan/fsdp_tp_real.py, FSDPMemTracker
on rank 0)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netscope.engine.compute.fit import fit_verdict
from tests.engine.plan.plan_models import REAL, free_port, loaded


def named(model: object) -> list:  # type: ignore[type-arg]
    return list(model.named_parameters())  # type: ignore[attr-defined]


@pytest.mark.slow
def test_fsdp_with_tensor_parallelism_is_within_10_percent_of_a_real_2d_run(
    tmp_path: Path,
) -> None:
    out = tmp_path / "peak.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "4",
        "--master-port", free_port(), str(REAL / "fsdp_tp_real.py"), str(out),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, cwd=REAL, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    measured = json.loads(out.read_text())["peak_bytes"]
    target = loaded(
        str(REAL / "tp_model.py"), train=True, optimizer="adamw", fit="4x1GiB", shard="fsdp", tp=2
    )
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.per_device is not None
    assert (fit.devices, fit.tp, fit.shard, fit.units) == (4, 2, "fsdp", ("0", "1"))
    # each GPU holds a quarter of each weight (split by tp, then sharded by dp) and half of each
    # RowwiseParallel bias (replicated over tp, sharded over dp)
    split = {name: 2 if name.endswith("down.bias") else 4 for name, _ in named(target.model)}
    expected = sum(p.numel() * 4 // split[name] for name, p in named(target.model))
    assert fit.per_device.params_bytes == expected
    assert fit.per_device.peak_bytes == pytest.approx(measured, rel=0.10)
