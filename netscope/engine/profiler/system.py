"""System readings next to the timing: process CPU and memory (psutil), each GPU's state (NVML).

Every reading that cannot be taken (no NVIDIA driver, no GPU, a field the card does not report,
psutil denied) is None, "not available": never a crash and never a made-up zero.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import psutil

from netscope.engine.model import GpuSample, SystemSample

T = TypeVar("T")


def _read(reader: Callable[[], T]) -> T | None:
    try:
        return reader()
    except Exception:  # NVML and psutil raise their own error types for "not supported"
        return None


def open_nvml() -> Any | None:
    """The initialized ``pynvml`` module, or None when NVML cannot start (no driver, no GPU)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception:
        return None


def close_nvml(nvml: Any | None) -> None:
    if nvml is not None:
        _read(nvml.nvmlShutdown)


def _name(nvml: Any, handle: Any) -> str | None:
    name = _read(lambda: nvml.nvmlDeviceGetName(handle))
    return name.decode() if isinstance(name, bytes) else name


def gpu_samples(nvml: Any | None) -> tuple[GpuSample, ...]:
    """One sample per GPU NVML sees; empty without NVML."""
    if nvml is None:
        return ()
    count = _read(nvml.nvmlDeviceGetCount) or 0
    samples = []
    for index in range(count):
        handle = _read(partial(nvml.nvmlDeviceGetHandleByIndex, index))
        if handle is None:
            samples.append(GpuSample(index=index))
            continue
        memory = _read(partial(nvml.nvmlDeviceGetMemoryInfo, handle))
        utilization = _read(partial(nvml.nvmlDeviceGetUtilizationRates, handle))
        pcie = partial(nvml.nvmlDeviceGetPcieThroughput, handle)
        tx = _read(partial(pcie, nvml.NVML_PCIE_UTIL_TX_BYTES))
        rx = _read(partial(pcie, nvml.NVML_PCIE_UTIL_RX_BYTES))
        power_mw = _read(partial(nvml.nvmlDeviceGetPowerUsage, handle))
        temperature = _read(
            partial(nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU)
        )
        samples.append(
            GpuSample(
                index=index,
                name=_name(nvml, handle),
                utilization_percent=float(utilization.gpu) if utilization is not None else None,
                memory_used_bytes=int(memory.used) if memory is not None else None,
                memory_total_bytes=int(memory.total) if memory is not None else None,
                pcie_tx_kbps=float(tx) if tx is not None else None,
                pcie_rx_kbps=float(rx) if rx is not None else None,
                power_watts=power_mw / 1000.0 if power_mw is not None else None,
                temperature_c=float(temperature) if temperature is not None else None,
            )
        )
    return tuple(samples)


class SystemSampler:
    """Takes ``SystemSample`` readings; CPU percentages cover the time since the previous one."""

    def __init__(self) -> None:
        self._process = _read(psutil.Process)
        self._began = time.perf_counter()
        if self._process is not None:
            _read(partial(self._process.cpu_percent, None))  # first call only starts the clock
        _read(lambda: psutil.cpu_percent(None, percpu=True))
        self._nvml = open_nvml()

    def sample(self) -> SystemSample:
        process = self._process
        cpu = _read(lambda: process.cpu_percent(None)) if process is not None else None
        rss = _read(lambda: process.memory_info().rss) if process is not None else None
        cores = _read(lambda: psutil.cpu_percent(None, percpu=True)) or ()
        return SystemSample(
            time_s=time.perf_counter() - self._began,
            process_cpu_percent=cpu,
            rss_bytes=rss,
            per_core_percent=tuple(float(c) for c in cores),
            gpus=gpu_samples(self._nvml),
        )

    def close(self) -> None:
        close_nvml(self._nvml)
        self._nvml = None
