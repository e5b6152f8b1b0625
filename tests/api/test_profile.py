"""``profile=True``: the step timed in netscope's worker on a torch.save'd copy; the caller's
process gets no stand-in GPU backend and its model is untouched (train=True steps the copy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import netscope
from netscope.engine.errors import NetscopeError
from netscope.engine.options import ProfileOptions
from tests.api.helpers import assert_same_state, imported, state_of

QUICK = ProfileOptions(devices=("cpu",), min_runs=3, max_seconds=0.3, timeout_s=120)


@pytest.mark.slow
def test_profile_runs_in_the_worker_and_leaves_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    module = imported("cnn")
    model, x = module.build_model(), module.example_input()
    before = state_of(model)
    backend = torch._C._get_privateuse1_backend_name()
    report = netscope.inspect(model, x, train=True, optimizer="adamw", profile=QUICK)
    assert_same_state(before, state_of(model))
    assert torch._C._get_privateuse1_backend_name() == backend  # no stand-in GPU here
    assert report.profile is not None
    (cpu,) = report.profile.devices
    assert cpu.device == "cpu" and cpu.runs >= 3 and cpu.median_ms > 0
    assert "adamw" in report.profile.step
    assert {b.path for b in report.profile.blocks} >= {"features.0", "head"}
    trace = tmp_path / "r.trace.json"
    report.save(str(trace))
    assert trace.read_text().startswith("{")
    assert list(report.to_dict()["profile"]["devices"]) == ["cpu"]
    assert report.compute is not None
    assert report.to_dict()["profile"]["flops_per_step"] == report.compute.step_flops
    assert f"Step on cpu         {cpu.median_ms:.3f} ms median" in str(report).splitlines()
    assert "<h1>Profile</h1>" in report._repr_html_()


class _NotPicklable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.fn = lambda t: t  # a lambda attribute: torch.save cannot pickle it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.lin(x))


def test_a_model_that_cannot_be_saved_is_a_clear_error() -> None:
    with pytest.raises(NetscopeError, match="profile=True: the model cannot be saved"):
        netscope.inspect(_NotPicklable(), torch.randn(2, 4), profile=QUICK)


def test_profile_needs_the_forwards_arguments() -> None:
    with pytest.raises(NetscopeError, match="profile=True needs the forward's arguments"):
        netscope.inspect(nn.Linear(2, 2), profile=True)


def test_a_class_from_an_interactive_session_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``python -c`` stands for a notebook: its ``__main__`` has no file a worker could import."""
    code = (
        "import torch\n"
        "from torch import nn\n"
        "import netscope\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = nn.Linear(4, 4)\n"
        "    def forward(self, x):\n"
        "        return self.lin(x)\n"
        "try:\n"
        "    netscope.inspect(Net(), torch.randn(2, 4), profile=True)\n"
        "except netscope.engine.errors.NetscopeError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )  # fmt: skip
    assert "profile=True: Net is defined in this interactive session" in result.stdout, (
        result.stderr
    )
