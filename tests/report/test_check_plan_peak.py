"""`netscope check` with a planned layout: which peak `--max-peak-memory` holds the step to, and
a per-GPU budget given twice (`--fit 8xH100 --memory-budget ...` planned on the H100s and dropped
the budget without a word)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MLP = str(Path(__file__).resolve().parents[2] / "sample_models" / "mlp.py")
PLAN = ("--train", "--fit", "2xH100", "--shard", "fsdp")


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "check", MLP, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_peak_limit_under_a_plan_says_it_held_the_one_device_step() -> None:
    """The limit failed on the one-device step's peak while the plan's per-GPU need was well
    under it: the violation says which step it measured and where the per-GPU need is gated."""
    run = check(*PLAN, "--max-peak-memory", "1KiB")
    assert run.returncode == 1, run.stderr
    line = next(x for x in run.stdout.splitlines() if "> --max-peak-memory" in x)
    assert "the step on one device, as measured" in line
    assert "the plan (2 x H100, fsdp" in line and "per GPU" in line and "--fit 2x<size>" in line
    alone = check("--train", "--max-peak-memory", "1KiB")  # no plan: nothing to tell apart
    assert alone.returncode == 1 and "as measured; the plan" not in alone.stdout


def test_a_budget_beside_a_fit_device_is_refused_not_dropped() -> None:
    run = check(*PLAN, "--memory-budget", "50KiB")
    assert run.returncode == 2
    assert "--memory-budget with --fit 2xH100" in run.stderr and "--fit 2x60GiB" in run.stderr
    sized = check("--train", "--fit", "2x50KiB", "--shard", "fsdp")  # the budget, said once
    assert sized.returncode == 1 and "does not fit 2 x 50KiB" in sized.stdout
