"""System tab: process CPU and memory, per-core load, and each GPU's NVML readings."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive, var
from textual.widgets import Static

from netscope.app import format as fmt
from netscope.app.live_state import LiveState
from netscope.engine.model import GilReport, GpuSample, SystemSample

NO_SAMPLE_YET = "No system sample yet (they stream while profiling)."
NO_SAMPLE_TAKEN = "The job ended; no system sample was taken."


class SystemPanel(Static):
    DEFAULT_CSS = """
    SystemPanel { padding: 0 1; height: auto; }
    """

    sample: reactive[SystemSample | None] = reactive(None)
    gil: reactive[GilReport | None] = reactive(None)
    absent: reactive[str] = reactive(NO_SAMPLE_YET)  # what is true while there is no sample
    # bound by LivePanels; netscope run's panels set ``sample`` themselves
    live: var[LiveState] = var(LiveState, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shape: tuple[bool, bool, int] = (False, False, 0)

    def _relayout_if_taller(self) -> None:
        """A new sample only repaints; the layout is redone only when the line count changes."""
        sample = self.sample
        shape = (sample is not None, self.gil is not None, len(sample.gpus) if sample else 0)
        if shape != self._shape:
            self._shape = shape
            self.refresh(layout=True)

    def watch_live(self, live: LiveState) -> None:
        if live.system is not None:
            self.sample = live.system
        self.gil = live.gil

    def watch_sample(self) -> None:
        self._relayout_if_taller()

    def watch_gil(self) -> None:
        self._relayout_if_taller()

    def render(self) -> RenderableType:
        sample = self.sample
        if sample is None:
            return Text(self.absent, style="dim")
        facts = Table.grid(padding=(0, 2))
        facts.add_row(
            Text("process", style="bold"),
            f"CPU {fmt.percent(sample.process_cpu_percent)}",
            f"RSS {fmt.size(sample.rss_bytes)}",
        )
        if self.gil is not None:
            facts.add_row(
                Text("GIL", style="bold"),
                f"late p50 {fmt.ms(self.gil.p50_ms)} p99 {fmt.ms(self.gil.p99_ms)}",
                f"late share {fmt.fraction(self.gil.late_share)}",
            )
        cores = Text("cores   ", style="bold")
        if sample.per_core_percent:
            cores.append(fmt.bars([*sample.per_core_percent, 100.0])[:-1])
            cores.append("  " + " ".join(f"{p:.0f}" for p in sample.per_core_percent), "dim")
        else:
            cores.append(fmt.NA)
        parts: list[RenderableType] = [facts, cores]
        if not sample.gpus:
            parts.append(Text("GPU     not available (no NVIDIA GPU or NVML)", style="dim"))
        parts.extend(_gpu_line(gpu) for gpu in sample.gpus)
        return Group(*parts)


def _gpu_line(gpu: GpuSample) -> Text:
    text = Text(f"GPU {gpu.index}   ", style="bold")
    text.append(f"{gpu.name or fmt.NA}  util {fmt.percent(gpu.utilization_percent)}  ")
    text.append(f"mem {fmt.size(gpu.memory_used_bytes)}/{fmt.size(gpu.memory_total_bytes)}  ")
    tx = None if gpu.pcie_tx_kbps is None else gpu.pcie_tx_kbps * 1024
    rx = None if gpu.pcie_rx_kbps is None else gpu.pcie_rx_kbps * 1024
    text.append(f"PCIe tx {fmt.size(tx)}/s rx {fmt.size(rx)}/s  ")
    power = fmt.NA if gpu.power_watts is None else f"{gpu.power_watts:.0f} W"
    temp = fmt.NA if gpu.temperature_c is None else f"{gpu.temperature_c:.0f} °C"
    text.append(f"power {power}  temp {temp}")
    return text
