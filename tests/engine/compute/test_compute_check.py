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
    assert "FLOPs per step: 30720 FLOP" in run.stdout  # 2 x 2 x (20 x 256 + 256 x 10)


def test_a_step_that_does_not_fit_fails() -> None:
    run = check("--train", "--optimizer", "adamw", "--fit", "100KiB")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "does not fit 100KiB" in run.stdout and "short by" in run.stdout


def test_no_peak_known_on_the_cpu_says_so() -> None:
    run = check()
    assert run.returncode == 0
    assert "MFU n/a (no peak for cpu: --peak-tflops)" in run.stdout


STEP_FILE = """
import torch
from torch import nn


def build_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))


def example_input():
    return torch.rand(2, 20)


def step(model, batch):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model(batch).float().pow(2).mean()
    loss.backward()
    model.zero_grad(set_to_none=True)
"""


def test_a_step_that_runs_backward_counts_its_backward(tmp_path: Path) -> None:
    """A file's step() that trains: FLOPs per step are the forward and the backward (MFU was
    halved), and the step's autocast is seen."""
    model = tmp_path / "trains.py"
    model.write_text(STEP_FILE)
    run = subprocess.run(
        [sys.executable, "-m", "netscope", "check", str(model), "--time-budget", "0.5",
         "--peak-tflops", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    forward = 2 * 2 * (20 * 256 + 256 * 10)
    backward = 2 * 2 * 20 * 256 + 2 * 2 * 2 * 256 * 10  # first layer: weight gradient only
    assert f"FLOPs per step: {forward + backward} FLOP" in run.stdout


def test_the_first_run_of_a_step_sees_its_backward_and_autocast(tmp_path: Path) -> None:
    import torch

    from netscope.engine.load.loaded import ExampleInput
    from netscope.engine.profiler.step import prepared_step

    namespace: dict = {}
    exec(STEP_FILE, namespace)
    model = namespace["build_model"]()
    example = ExampleInput(args=(torch.rand(2, 20),))
    with prepared_step(model, example, "cpu", step_fn=namespace["step"]) as step:
        step.run()
        assert step.seen.backward and step.seen.autocast == "bfloat16"
    with prepared_step(model, example, "cpu") as step:  # the eval forward
        step.run()
        assert not step.seen.backward and step.seen.autocast is None
