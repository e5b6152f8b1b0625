"""Typed messages between the script's process (the watcher) and netscope (the parent).

From the child: RunStarted -> (Steps | StepUsage | ModelsFound | RunSnapshot | StepCounted |
DevicePeak | LoopFindings | GilMeasured | CompileSeen | RunNote)* -> CompileSeen? ->
ScriptEnded. The parent
adds ScriptOutput (the script's printed lines, when it captures them) and SystemSampled (it
samples the child's process itself, which costs the script nothing).
Every message is a frozen dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass

from netscope.engine.compile_facts import CompileReport
from netscope.engine.model import (
    BlockTiming,
    Compute,
    GilReport,
    LoopCopy,
    LoopSync,
    Memory,
    RunModel,
    ScriptError,
    Snapshot,
    SystemSample,
)

# One step: (index, total_ms, data_ms, forward_ms, backward_ms, optimizer_ms, sampled); the four
# phases None on a lean step (engine/run/quiet.py), whose phases were not read
StepRecord = tuple[int, float, float | None, float | None, float | None, float | None, bool]
# One step's use: (index, calls of the main model, bytes at its boundary, peak bytes), the two
# memory figures None on the steps whose boundary was not read, the calls None when they are not
# seen (a model called only inside a torch.compile'd step)
UsageRecord = tuple[int, int | None, int | None, int | None]
PEAK_TFLOPS_ENV = "NETSCOPE_PEAK_TFLOPS"  # --peak-tflops, for the watcher in the script's process


@dataclass(frozen=True)
class RunStarted:
    argv: tuple[str, ...]
    pid: int


@dataclass(frozen=True)
class Steps:
    """Steps completed since the last batch; ``boundary`` names what ends a step."""

    boundary: str  # "optimizer.step" or "forward"
    records: tuple[StepRecord, ...]


@dataclass(frozen=True)
class StepUsage:
    """The same steps' main-model calls and memory (sent with each batch of ``Steps``)."""

    boundary: str
    how: str | None  # "cuda allocated", "process rss"; None: memory cannot be read
    records: tuple[UsageRecord, ...]


@dataclass(frozen=True)
class DevicePeak:
    """The main model's device and its dense peak FLOP/s for the model's dtype (None: unknown)."""

    device: str
    peak_flops_per_s: float | None
    source: str  # "H100 bfloat16 dense", "--peak-tflops"; "" without a peak


@dataclass(frozen=True)
class BoundaryChanged:
    """An optimizer stepped: steps counted per root call so far were a training loop's warm-up."""

    boundary: str


@dataclass(frozen=True)
class ModelsFound:
    models: tuple[RunModel, ...]


@dataclass(frozen=True)
class RunSnapshot:
    snapshot: Snapshot


@dataclass(frozen=True)
class StepCounted:
    """One of the script's own steps, observed (``step_watch``): its FLOPs over every counted
    call of the main model (all micro-batches) and its memory, on this process (rank)."""

    boundary: str  # the kind of step counted: "optimizer.step" or "forward"
    compute: Compute
    memory: Memory
    calls: int


@dataclass(frozen=True)
class LoopFindings:
    """Syncs and copies over every sampled step so far (cumulative, replaces the previous)."""

    syncs: tuple[LoopSync, ...]
    copies: tuple[LoopCopy, ...]
    sampled_steps: int
    sample_every: int


@dataclass(frozen=True)
class BlockTimes:
    """The main model's per-block time per step, over every timed step so far (replaces)."""

    blocks: tuple[BlockTiming, ...]
    timed_steps: int


@dataclass(frozen=True)
class CompileSeen:
    """What torch.compile did in the script so far: its graph breaks and recompiles (replaces
    the previous; sent at step boundaries when something is new, at most once a second, and at
    the end)."""

    report: CompileReport


@dataclass(frozen=True)
class GilMeasured:
    report: GilReport


@dataclass(frozen=True)
class RunNote:
    text: str


@dataclass(frozen=True)
class ScriptOutput:
    stream: str  # "stdout" or "stderr"
    line: str


@dataclass(frozen=True)
class SystemSampled:
    sample: SystemSample


@dataclass(frozen=True)
class ScriptEnded:
    exit_code: int
    error: ScriptError | None = None
    stopped: bool = False  # ended by netscope's stop (q, Ctrl+C), not by itself


RunMessage = (
    RunStarted
    | Steps
    | StepUsage
    | DevicePeak
    | BoundaryChanged
    | ModelsFound
    | RunSnapshot
    | StepCounted
    | LoopFindings
    | BlockTimes
    | GilMeasured
    | CompileSeen
    | RunNote
    | ScriptOutput
    | SystemSampled
    | ScriptEnded
)
