"""``--tp``'s own collective buffers: the plan's ``comm_buffers_bytes`` is the high water of the
buffers DTensor's collectives return in the replayed step, equal to the same high water measured
on rank 0 of a real two-rank tensor-parallel step (torchrun, gloo, CPU:
benchmarks/plan/tp_real.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from netscope.engine.compute.fit import fit_verdict
from tests.engine.plan.plan_models import REAL, free_port, loaded


def test_tp_collective_buffers_equal_a_real_tensor_parallel_step(tmp_path: Path) -> None:
    out = tmp_path / "tp.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--master-port", free_port(), str(REAL / "tp_real.py"), str(out),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, cwd=REAL, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    real = json.loads(out.read_text())
    # two rowwise outputs in the forward, one colwise input gradient in the backward
    assert [name for name, _ in real["collectives"]] == ["all_reduce"] * 3
    target = loaded(str(REAL / "tp_model.py"), train=True, optimizer="adamw", fit="2x1GiB", tp=2)
    fit = fit_verdict(target, target.example_input)
    assert fit is not None and fit.per_device is not None and fit.tp == 2
    assert fit.per_device.comm_buffers_bytes == real["peak_bytes"] == 2 * 32 * 64 * 4
