"""``netscope check``'s memory gates and rates, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from netscope import units

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
    assert f"FLOPs per step: {units.flops(forward + backward)};" in run.stdout


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


LLAMA_FILE = """
import torch
import transformers as T


def build_model():
    config = T.LlamaConfig(num_hidden_layers=2, num_key_value_heads=1, hidden_size=32,
                           num_attention_heads=2, intermediate_size=64, vocab_size=100)
    return T.LlamaForCausalLM(config)


def example_input():
    return {"input_ids": torch.randint(0, 100, (2, 8))}
"""


def check_file(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "netscope", "check", str(path), *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_check_on_meta_gates_memory_and_fit_without_profiling(tmp_path: Path) -> None:
    """A transformers Llama built from its config, on meta: no profile, the gates still hold."""
    model = tmp_path / "llama.py"
    model.write_text(LLAMA_FILE)
    passing = check_file(model, "--device", "meta", "--train", "--max-peak-memory", "1GiB")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "train step on meta (not profiled)" in passing.stdout
    assert "FLOPs per step: " in passing.stdout and "n/a" not in passing.stdout.split("FLOPs")[1]
    assert "estimated" in passing.stdout and "OK: within limits" in passing.stdout
    failing = check_file(model, "--device", "meta", "--max-peak-memory", "1KiB")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "> --max-peak-memory 1.0 KiB" in failing.stdout


def test_check_on_meta_refuses_the_limits_it_cannot_measure() -> None:
    run = check_file(SAMPLES / "big_transformer.py", "--device", "meta", "--max-syncs", "0")
    assert run.returncode == 2
    assert "--max-syncs cannot be checked on meta" in run.stderr


def test_check_on_meta_the_big_transformer_does_not_fit_an_h200_for_training() -> None:
    run = check_file(
        SAMPLES / "big_transformer.py", "--device", "meta", "--train", "--optimizer", "adamw",
        "--fit", "H200",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not profiled" in run.stdout and "does not fit H200" in run.stdout
