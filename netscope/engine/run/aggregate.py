"""Fold the run's messages into a ``RunReport``: what the CLI writes and the app shows.

The parent keeps everything, so a script that crashes or is killed keeps what was recorded.
Step time and phases are taken over the steps that netscope left alone (the detectors, the
counting mode and the block clock slow a step down) when there are ``MIN_PLAIN_STEPS`` of them;
over every step otherwise (a short run, ``--every 1``), and a note says so.

FLOPs per step are counted once, on one of the script's own steps as it ran (``StepCounted``:
every call of the main model under grad in that step, micro-batches included, and its backward;
in an inference loop one call); the achieved FLOP/s divides them by the median step time, and
MFU is that over the device's dense peak the watcher looked up. An evaluation under ``no_grad``
is not the training step: only a step whose backward ran counts once an optimizer steps.
"""

from __future__ import annotations

from collections import Counter, deque

from netscope.engine.compile_facts import DETECTORS_OFF, CompileReport
from netscope.engine.compute.mfu import achieved_rate, utilization
from netscope.engine.model import (
    BlockTiming,
    GilReport,
    LoopCopy,
    LoopSync,
    RunMemory,
    RunModel,
    RunReport,
    RunState,
    ScriptError,
    Snapshot,
    Spread,
    StepPhases,
    SystemSample,
)
from netscope.engine.run.memory import WARMUP_STEPS, WINDOW, step_memory
from netscope.engine.run.messages import (
    BlockTimes,
    BoundaryChanged,
    CompileSeen,
    DevicePeak,
    GilMeasured,
    LoopFindings,
    ModelsFound,
    RunMessage,
    RunNote,
    RunSnapshot,
    RunStarted,
    ScriptEnded,
    ScriptOutput,
    StepCounted,
    StepRecord,
    Steps,
    StepUsage,
    SystemSampled,
)

RECENT_STEPS = 120
MIN_PLAIN_STEPS = 8  # fewer plain steps than this: step times come from every step
OUTPUT_LINES = 2000


def _percentile(ordered: list[float], fraction: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: list[float]) -> Spread | None:
    if not values:
        return None
    ordered = sorted(values)
    return Spread(_percentile(ordered, 0.5), _percentile(ordered, 0.1), _percentile(ordered, 0.9))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return _percentile(ordered, 0.5) if ordered else 0.0


class RunRecorder:
    """Reads every message of one run; ``report()`` is the state so far."""

    def __init__(self, argv: tuple[str, ...] = ()) -> None:
        self.argv = argv
        self.state: RunState = "starting"
        self.exit_code: int | None = None
        self.error: ScriptError | None = None
        self.boundary: str | None = None
        self.steps: list[StepRecord] = []
        self.recent: deque[float] = deque(maxlen=RECENT_STEPS)
        self.syncs: tuple[LoopSync, ...] = ()
        self.copies: tuple[LoopCopy, ...] = ()
        self.sampled_steps = 0
        self.sample_every: int | None = None
        self.models: tuple[RunModel, ...] = ()
        self.gil: GilReport | None = None
        self.compile: CompileReport | None = None
        self.system: SystemSample | None = None
        self.snapshot: Snapshot | None = None
        self.blocks: tuple[BlockTiming, ...] = ()
        self.block_timed_steps = 0
        self.notes: list[str] = []
        self.output: deque[ScriptOutput] = deque(maxlen=OUTPUT_LINES)
        self.stopped = False
        self.peak: DevicePeak | None = None
        self.counted: StepCounted | None = None
        self._clear_usage()

    def _clear_usage(self) -> None:
        self.calls: Counter[int] = Counter()  # calls of the main model per step -> steps
        self.memory_how: str | None = None
        self.memory_reads: deque[tuple[int, int]] = deque(maxlen=WINDOW)  # after warm-up
        self.memory_peak: int | None = None
        self.memory_count = 0
        self._memory: tuple[int, RunMemory] | None = None  # (reads, summary) of the last report

    def feed(self, message: RunMessage | None) -> None:
        if message is None:
            return
        if isinstance(message, Steps):
            if message.boundary != self.boundary:
                self._reset_steps(message.boundary)
            self.steps.extend(message.records)
            for record in message.records:
                if not record[6]:
                    self.recent.append(record[1])
        elif isinstance(message, StepUsage):
            if message.boundary == self.boundary:
                self._add_usage(message)
        elif isinstance(message, ScriptOutput):
            self.output.append(message)
        elif isinstance(message, SystemSampled):
            self.system = message.sample
        elif isinstance(message, BoundaryChanged):
            self._reset_steps(message.boundary)
        elif isinstance(message, LoopFindings):
            self.syncs, self.copies = message.syncs, message.copies
            self.sampled_steps, self.sample_every = message.sampled_steps, message.sample_every
        elif isinstance(message, BlockTimes):
            self.blocks, self.block_timed_steps = message.blocks, message.timed_steps
        elif isinstance(message, ModelsFound):
            self.models = message.models
        elif isinstance(message, RunSnapshot):
            self.snapshot = message.snapshot
        elif isinstance(message, StepCounted):
            self.counted = message
        elif isinstance(message, DevicePeak):
            self.peak = message
        elif isinstance(message, GilMeasured):
            self.gil = message.report
        elif isinstance(message, CompileSeen):
            self.compile = message.report
        elif isinstance(message, RunNote):
            self.notes.append(message.text)
        elif isinstance(message, RunStarted):
            self.argv = message.argv
            self.state = "running"
        elif isinstance(message, ScriptEnded):
            self.exit_code = message.exit_code
            self.error = message.error
            self.stopped = message.stopped
            if message.stopped:
                self.state = "stopped"
            elif message.error is not None and message.exit_code != 0:
                self.state = "crashed"
            else:
                self.state = "finished"

    def _reset_steps(self, boundary: str) -> None:
        self.boundary = boundary
        self.steps = []
        self.recent.clear()
        self._clear_usage()

    def _add_usage(self, message: StepUsage) -> None:
        if message.how is not None:
            self.memory_how = message.how
        for index, calls, now, peak in message.records:
            if calls is not None:
                self.calls[calls] += 1
            if now is None:
                continue
            self.memory_count += 1
            top = max(now, peak if peak is not None else now)
            self.memory_peak = top if self.memory_peak is None else max(self.memory_peak, top)
            if index > WARMUP_STEPS:
                self.memory_reads.append((index, now))

    def memory(self) -> RunMemory | None:
        """Peak and growth per step of the loop's memory; None when it was never read."""
        if self.memory_how is None or not self.memory_count:
            return None
        if self._memory is None or self._memory[0] != self.memory_count:
            summary = step_memory(
                self.memory_how, list(self.memory_reads), self.memory_peak, self.memory_count
            )
            self._memory = (self.memory_count, summary)
        return self._memory[1]

    def calls_per_step(self) -> float | None:
        """The median number of the main model's calls per step (None before a step)."""
        total = sum(self.calls.values())
        if not total:
            return None
        ordered = sorted(self.calls.elements())
        return median([float(c) for c in ordered])

    def flops_per_step(self) -> int | None:
        """The counted step's forward (+ backward when the loop trains), all its calls."""
        counted = self._counted()
        compute = counted.compute if counted is not None else None
        if compute is None or not self.steps:
            return None
        if self.boundary == "optimizer.step" and compute.backward_flops is None:
            return None
        return compute.step_flops

    def _counted(self) -> StepCounted | None:
        """The counted step, when it is a step of the loop's kind (not an evaluation call
        counted before the first optimizer step)."""
        counted = self.counted
        return counted if counted is not None and counted.boundary == self.boundary else None

    def _timed(self) -> list[StepRecord]:
        plain = [r for r in self.steps if not r[6]]
        return plain if self._plain_enough(plain) else list(self.steps)

    def _plain_enough(self, plain: list[StepRecord]) -> bool:
        return len(plain) >= MIN_PLAIN_STEPS or len(plain) == len(self.steps)

    def report(self) -> RunReport:
        timed = self._timed()
        phases = _phases(timed) or _phases(self.steps)
        step_ms = spread([r[1] for r in timed])
        calls = self.calls_per_step()
        flops = self.flops_per_step()
        achieved = achieved_rate(flops, step_ms.median if step_ms is not None else None)
        peak = self.peak.peak_flops_per_s if self.peak is not None else None
        memory = self.memory()
        return RunReport(
            argv=self.argv,
            state=self.state,
            exit_code=self.exit_code,
            steps=len(self.steps),
            step_boundary=self.boundary if self.steps else None,  # type: ignore[arg-type]
            step_ms=step_ms,
            phases_ms=phases,
            syncs=self.syncs,
            copies=self.copies,
            sampled_steps=self.sampled_steps,
            sample_every=self.sample_every,
            models=self.models,
            gil=self.gil,
            compile=self.compile,
            system=self.system,
            error=self.error,
            notes=tuple(self._notes(memory)),
            snapshot=self.snapshot,
            recent_step_ms=tuple(self.recent),
            blocks=self.blocks,
            block_timed_steps=self.block_timed_steps,
            flops_per_step=flops,
            achieved_flops_per_s=achieved,
            mfu=utilization(achieved, peak),
            peak_flops_per_s=peak,
            peak_source=self.peak.source if self.peak is not None else "",
            model_calls_per_step=calls,
            memory=memory,
            step_memory=counted.memory if (counted := self._counted()) is not None else None,
        )

    def _notes(self, memory: RunMemory | None = None) -> list[str]:
        notes = list(self.notes)
        if memory is not None and memory.note:
            notes.append(memory.note)
        if self.state in ("starting", "running"):
            return notes
        if not self.models:
            notes.append(
                "no model was called: netscope finds a model when its forward runs (a module "
                "with parameters called from the script's own code), so there is no block tree "
                "and no step"
            )
        elif not self.steps:
            notes.append(
                "no step completed: a step ends at optimizer.step() (a training loop) or at the "
                "end of the model's call (an inference loop)"
            )
        if self.steps and not self.sampled_steps and DETECTORS_OFF not in notes:
            notes.append(
                "no step was sampled for syncs and copies: the loop ended before the first "
                "sampled step (the fifth; the fourth prepares it; --every N: the fourth)"
            )
        plain = sum(1 for r in self.steps if not r[6])
        if self.steps and not self._plain_enough([r for r in self.steps if not r[6]]):
            notes.append(
                f"step times and phases are taken over all {len(self.steps)} steps: only "
                f"{plain} ran without netscope's detectors or counters (fewer than "
                f"{MIN_PLAIN_STEPS}), so they include the slowed ones"
            )
        if self.steps and self.gil is None:
            notes.append(
                "interpreter-lock (GIL) lateness not measured: the heartbeat beats over a step "
                "of its own (the third; --every N: after the first sampled steps; --every 1 or "
                "2: never, every step is sampled) and the loop ended first"
            )
        return notes


def _phases(records: list[StepRecord]) -> StepPhases | None:
    """The phases' medians over the steps whose phases were read (a lean step's were not:
    engine/run/quiet.py)."""
    read: list[tuple[float, float, float, float, float]] = [
        (r[1], r[2], r[3], r[4], r[5])
        for r in records
        if r[2] is not None and r[3] is not None and r[4] is not None and r[5] is not None
    ]
    if not read:
        return None
    return StepPhases(
        data=median([r[1] for r in read]),
        forward=median([r[2] for r in read]),
        backward=median([r[3] for r in read]),
        optimizer=median([r[4] for r in read]),
        other=median([max(r[0] - r[1] - r[2] - r[3] - r[4], 0.0) for r in read]),
    )
