"""The agent's peak for MFU: netscope's table for a CUDA board in the dtype the call ran in
(autocast's when it was on), ``--peak-tflops`` (through the environment) for anything else."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netscope.engine.compute import mfu
from netscope.engine.compute.mfu import autocast_dtype as _autocast_dtype
from netscope.engine.run import watcher as watcher_module
from netscope.engine.run.messages import PEAK_TFLOPS_ENV
from netscope.engine.run.watcher import Watcher, _peak_tflops_env


def test_the_autocast_dtype_of_a_call():
    assert _autocast_dtype("cpu") is None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert _autocast_dtype("cpu") == "bfloat16"
    assert _autocast_dtype("meta") is None  # no autocast there: never an error


@pytest.mark.parametrize(
    ("text", "value"), [("", None), ("1", 1.0), ("312.5", 312.5), ("0", None), ("x", None)]
)
def test_peak_tflops_from_the_environment(monkeypatch, text, value):
    monkeypatch.setenv(PEAK_TFLOPS_ENV, text)
    assert _peak_tflops_env() == value


def test_a_cuda_board_under_autocast_gets_its_bfloat16_peak(monkeypatch):
    monkeypatch.delenv(PEAK_TFLOPS_ENV, raising=False)
    monkeypatch.setattr(mfu, "device_name", lambda device: "NVIDIA H100 80GB HBM3")
    agent = Watcher(None, "train.py")  # type: ignore[arg-type]  # no messages are sent here
    agent.example_autocast = "bfloat16"
    peak = agent._device_peak(nn.Linear(2, 2), None)  # type: ignore[arg-type]
    assert peak.peak_flops_per_s == pytest.approx(989.4e12)
    assert peak.source == "H100 bfloat16 dense (autocast)"


def test_the_cpu_has_no_peak_unless_given(monkeypatch):
    monkeypatch.delenv(PEAK_TFLOPS_ENV, raising=False)
    agent = Watcher(None, "train.py")  # type: ignore[arg-type]
    agent.example_autocast = "float32"
    peak = agent._device_peak(nn.Linear(2, 2), None)  # type: ignore[arg-type]
    assert (peak.device, peak.peak_flops_per_s, peak.source) == ("cpu", None, "")
    monkeypatch.setenv(PEAK_TFLOPS_ENV, "2")
    given = Watcher(None, "train.py")._device_peak(nn.Linear(2, 2), None)  # type: ignore[arg-type]
    assert (given.peak_flops_per_s, given.source) == (2e12, "--peak-tflops")
    assert watcher_module.PEAK_TFLOPS_ENV == PEAK_TFLOPS_ENV


def test_a_peak_that_is_not_positive_is_refused_before_the_script_runs(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "netscope", "run", "--peak-tflops", "0", "-o", "r.json", "x.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--peak-tflops must be a positive" in done.stderr
    assert not (tmp_path / "r.json").exists()


def test_profiles_and_runs_look_the_peak_up_alike(monkeypatch):
    """One lookup: the profile's rates and the run agent's peak agree on a board and a dtype."""
    monkeypatch.delenv(PEAK_TFLOPS_ENV, raising=False)
    monkeypatch.setattr(mfu, "device_name", lambda device: "NVIDIA H100 80GB HBM3")
    agent = Watcher(None, "train.py")  # type: ignore[arg-type]
    agent.example_autocast = None
    from_run = agent._device_peak(nn.Linear(2, 2).to("meta"), None)  # type: ignore[arg-type]
    assert mfu.device_peak("meta", None, None) == (from_run.peak_flops_per_s, from_run.source)
    assert from_run.source == "H100 float32 dense"
    assert mfu.utilization(mfu.achieved_rate(10**12, 1000.0), 4e12) == 0.25
    assert mfu.achieved_rate(None, 10.0) is None and mfu.utilization(1.0, None) is None
