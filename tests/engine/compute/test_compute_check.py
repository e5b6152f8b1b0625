"""``netscope check``'s memory gates and rates, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "sample_models"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netscope", "check", str(SAMPLES / "mlp.py"), "--time-budget",
         "0.5", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_peak_over_the_limit_fails_naming_the_biggest_contributors() -> None:
    run = check("--train", "--optimizer", "adamw", "--max-peak-memory", "64KiB")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "step peak memory (train step, adamw)" in run.stdout
    violation = next(line for line in run.stdout.splitlines() if "> --max-peak-memory" in line)
    assert "biggest: optimizer state" in violation and "blocks saving most: 1" in violation


def test_a_step_that_fits_passes_and_says_by_how_much() -> None:
    run = check("--fit", "24GiB", "--max-peak-memory", "1GiB", "--peak-tflops", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "inference fits 24GiB" in run.stdout and "largest batch" in run.stdout
    assert "MFU" in run.stdout and "of --peak-tflops" in run.stdout
    assert "FLOPs per step: 30.7 kFLOP" in run.stdout  # 2 x 2 x (20 x 256 + 256 x 10)


def test_a_step_that_does_not_fit_fails() -> None:
    run = check("--train", "--optimizer", "adamw", "--fit", "100KiB")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "does not fit 100KiB" in run.stdout and "short by" in run.stdout


def test_no_peak_known_on_the_cpu_says_so() -> None:
    run = check()
    assert run.returncode == 0
    assert "MFU n/a (no peak for cpu: --peak-tflops)" in run.stdout
