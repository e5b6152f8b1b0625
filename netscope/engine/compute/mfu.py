"""Achieved FLOP/s and MFU, for profiles and ``netscope run`` alike: the counted FLOPs of one
step over its measured median time, against the device's dense peak for the dtype the matmuls run
in (``devices.PEAK_TFLOPS``, or ``--peak-tflops``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from netscope.engine.compute.devices import board_of, peak_flops
from netscope.engine.model import ComputeRate, Profile, Snapshot


def autocast_dtype(device: str) -> str | None:
    """The dtype autocast runs matmuls in on ``device`` now ("bfloat16"), None when it is off."""
    import torch  # here, as in device_name: the CLI's aggregator imports this module without it

    kind = device.split(":")[0]
    try:
        if not torch.is_autocast_enabled(kind):
            return None
        return str(torch.get_autocast_dtype(kind)).removeprefix("torch.")
    except (RuntimeError, TypeError, AttributeError):
        return None


def step_flops(snapshot: Snapshot | None, train: bool) -> int | None:
    """The FLOPs of one profiled step: forward, plus backward for a step that trains."""
    compute = snapshot.compute if snapshot is not None else None
    if compute is None:
        return None
    if not train:
        return compute.forward_flops
    return None if compute.backward_flops is None else compute.step_flops


def main_dtype(snapshot: Snapshot) -> str:
    """The floating dtype holding most of the parameters' bytes ("float32" when none)."""
    by_dtype: Counter[str] = Counter()
    for param in snapshot.parameters:
        if param.bytes and param.dtype in ("float32", "bfloat16", "float16", "float64"):
            by_dtype[param.dtype] += param.bytes
    return by_dtype.most_common(1)[0][0] if by_dtype else "float32"


def device_name(device: str) -> str | None:
    """The CUDA device's own name ("NVIDIA H100 80GB HBM3"); None for the CPU or no CUDA."""
    import torch  # here: the run's aggregator in the CLI process uses this module without torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    try:
        return torch.cuda.get_device_name(torch.device(device))
    except (RuntimeError, AssertionError):
        return None


def device_peak(
    device: str, snapshot: Snapshot | None, peak_tflops: float | None, autocast: str | None = None
) -> tuple[float | None, str]:
    """The device's dense peak FLOP/s and where it comes from: ``--peak-tflops`` when given,
    else netscope's table for the CUDA board in the dtype the matmuls run in (autocast's when it
    was on, else the one holding most of the weights); (None, "") for the CPU or an unknown
    board. The one lookup behind every MFU netscope reports (profiles and ``netscope run``)."""
    if peak_tflops is not None:
        return peak_tflops * 1e12, "--peak-tflops"
    name = device_name(device)
    if not name:
        return None, ""
    dtype = autocast or (main_dtype(snapshot) if snapshot is not None else "float32")
    peak = peak_flops(name, dtype)
    if peak is None:
        return None, ""
    return peak, f"{board_of(name)} {dtype} dense" + (" (autocast)" if autocast else "")


def achieved_rate(flops: int | None, median_ms: float | None) -> float | None:
    """FLOP/s of a step of ``flops`` FLOPs taking ``median_ms``; None when either is unknown."""
    if flops is None or median_ms is None or median_ms <= 0:
        return None
    return flops / (median_ms / 1000)


def utilization(achieved: float | None, peak: float | None) -> float | None:
    """MFU: achieved over peak FLOP/s, 0..1; None without both."""
    return achieved / peak if achieved is not None and peak else None


def with_rates(
    profile: Profile, snapshot: Snapshot | None, train: bool, peak_tflops: float | None
) -> Profile:
    """``profile`` with its step's FLOPs and each device's achieved FLOP/s and MFU.

    The step trains with ``--train`` or when its run was seen reaching the weights' gradients
    (a file's ``step()``); its dtype is autocast's when the step ran under autocast."""
    flops = step_flops(snapshot, train or profile.step_backward)
    rates = []
    for summary in profile.devices:
        achieved = achieved_rate(flops, summary.median_ms)
        peak, source = device_peak(summary.device, snapshot, peak_tflops, profile.step_autocast)
        rates.append(
            ComputeRate(summary.device, achieved, peak, utilization(achieved, peak), source)
        )
    return replace(profile, flops_per_step=flops, rates=tuple(rates))
