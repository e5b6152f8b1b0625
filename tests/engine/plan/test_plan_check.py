"""``netscope check`` gates a planned layout in CI, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.engine.plan.plan_models import write


def check(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "check", path, "--time-budget", "0.2", "--train",
         "--optimizer", "adamw", "--shard", "fsdp", *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_a_layout_that_does_not_fit_fails_naming_the_biggest_per_gpu_parts(
    tmp_path: Path,
) -> None:
    path = write(tmp_path)
    run = check(path, "--fit", "64x300KiB", "--precision", "bf16-mixed")
    assert run.returncode == 1, run.stdout + run.stderr
    line = run.stdout.split("FAILED")[1]
    assert "does not fit 64 x 300KiB" in line and "short by" in line
    assert "activations" in line and "per GPU" in line
    assert "64 x 300KiB, fsdp (4 units + root), bf16-mixed" in run.stdout
    ok = check(path, "--fit", "2x1GiB", "--checkpoint", "all")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "fits 2 x 1GiB" in ok.stdout and "4 blocks checkpointed" in ok.stdout
    assert "fewest GPUs that fit: 1" in ok.stdout
    assert "    apply_activation_checkpointing(" in ok.stdout  # the choice, to paste
