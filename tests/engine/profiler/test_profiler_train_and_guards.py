"""The --train default step on a real model, and the CUDA guards on this CPU-only build."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from netscope.engine.compute.loss import step_loss
from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import ExampleInput
from netscope.engine.profiler import copies, system
from netscope.engine.profiler.runner import resolve_devices
from netscope.engine.profiler.step import STEP_TRAIN, prepared_step

ROOT = Path(__file__).resolve().parents[3]
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only guards")


class Recorder(nn.Module):
    """Notes the training flag each forward ran with."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.linear(x)


def test_train_step_updates_weights_in_train_mode_and_restores_the_mode() -> None:
    model = Recorder().eval()
    before = [p.detach().clone() for p in model.parameters()]
    example = ExampleInput(args=(torch.ones(4, 3),))
    with prepared_step(model, example, "cpu", train=True) as step:
        assert step.description == STEP_TRAIN
        loss = step.run()
        step.run()
    assert loss.ndim == 0 and loss.requires_grad
    assert model.modes == [True, True]  # forward ran in training mode ...
    assert model.training is False  # ... and the caller's eval mode is back
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())  # zeroed after each update


def test_train_step_uses_the_files_loss() -> None:
    model = Recorder().train()
    seen: list[tuple[torch.Tensor, object]] = []

    def loss(output: torch.Tensor, batch: object) -> torch.Tensor:
        seen.append((output, batch))
        return output.pow(2).sum()

    example = ExampleInput(args=(torch.ones(2, 3),))
    with prepared_step(model, example, "cpu", loss_fn=loss, train=True) as step:
        step.run()
    assert len(seen) == 1 and seen[0][0].shape == (2, 2)
    assert model.training is True


def test_eval_step_restores_training_mode_even_when_it_raises() -> None:
    model = Recorder().train()
    with (
        pytest.raises(RuntimeError),
        prepared_step(model, ExampleInput(args=(torch.ones(1, 5),)), "cpu") as step,
    ):
        step.run()  # wrong width: the user's forward raises
    assert model.modes == [False] and model.training is True


def test_train_without_a_floating_output_asks_for_a_loss() -> None:
    with pytest.raises(NetscopeError, match="needs a loss"):
        step_loss((torch.ones(2, dtype=torch.int64),), None, None, no_floating_output="raise")


@NO_CUDA
@pytest.mark.parametrize("asked", ["cuda", "cuda:0", "cuda:1"])
def test_asking_for_cuda_without_a_gpu_is_a_clear_error(asked: str) -> None:
    with pytest.raises(NetscopeError, match="no CUDA GPU is available") as caught:
        resolve_devices(("cpu", asked))
    assert "available devices are cpu" in str(caught.value)
    assert resolve_devices(None) == ["cpu"]


@NO_CUDA
def test_cuda_guards_do_not_raise_on_a_cpu_build() -> None:
    host = torch.ones(3)
    assert copies.is_pinned(host) in (False, None)  # asking never raises
    assert copies.is_pinned(torch.ones(3, device="meta")) is None
    sampler = system.SystemSampler()  # NVML absent: no crash, no fake GPU
    try:
        sample = sampler.sample()
    finally:
        sampler.close()
    assert sample.gpus == () or all(g.memory_total_bytes is not None for g in sample.gpus)


@NO_CUDA
def test_gpu_validation_script_imports_and_refuses_without_cuda(capsys) -> None:
    spec = importlib.util.spec_from_file_location(
        "gpu_validation", ROOT / "scripts/gpu_validation.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main() == 2
    assert "no CUDA device" in capsys.readouterr().out
