"""Profile a loaded target: headline timing per device, then per-block timing, copies, syncs, GIL.

Runs in the worker process (engine/worker/) but needs no process of its own, so tests call it
directly. Results leave through ``emit`` as the messages of ``messages.py``, in the documented
order: TimingSample*/TimingDone per device, BlockTimings per device, CopiesFound, SyncsFound,
GilMeasured. The copy/sync pass and the heartbeat run on the first GPU when there is one (that is
where syncs cost); without one the copy/sync pass runs on the stand-in GPU of ``standin.py``
and its findings read "would sync on CUDA".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import torch

from netscope.engine.errors import NetscopeError
from netscope.engine.load.compiled import describe, eager, eager_target
from netscope.engine.load.device import cuda_device_count, device_label, resolve_device
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import BlockTiming, GilReport, Profile, TimingSummary
from netscope.engine.options import ProfileOptions
from netscope.engine.profiler import standin
from netscope.engine.profiler.block_timing import time_blocks
from netscope.engine.profiler.detect import detect
from netscope.engine.profiler.gil import measure_gil
from netscope.engine.profiler.messages import (
    BlockTimings,
    CopiesFound,
    GilMeasured,
    Progress,
    SyncsFound,
    SystemSampled,
    TimingDone,
    TimingSample,
    WorkerMessage,
)
from netscope.engine.profiler.step import Step, StepSeen, prepared_step
from netscope.engine.profiler.system import SystemSampler
from netscope.engine.profiler.timing import time_step
from netscope.engine.snapshot.forward import blames_netscope, instrumentation_error

Emit = Callable[[WorkerMessage], None]
SYSTEM_EVERY_S = 0.5


def cuda_devices() -> list[str]:
    """``cuda:N`` for every GPU this torch build can use; empty on CPU-only builds."""
    return [f"cuda:{index}" for index in range(cuda_device_count())]


def resolve_devices(requested: tuple[str, ...] | None) -> list[str]:
    """The devices to profile: ``requested`` parsed as ``--device`` is, or cpu plus every GPU."""
    present = ["cpu", *cuda_devices()]
    if not requested:
        return present
    chosen = []
    for name in requested:
        try:
            label = device_label(resolve_device(name, option="--devices"))
        except NetscopeError as exc:
            raise NetscopeError(
                f"{exc.message}; available devices are {', '.join(present)}",
                hint="Pass --devices with some of these, e.g. --devices cpu.",
            ) from exc
        if label not in present:  # meta: shapes without data, nothing to time
            raise NetscopeError(
                f"cannot profile on {name!r}: available devices are {', '.join(present)}",
                hint="Pass --devices with some of these, e.g. --devices cpu.",
            )
        if label not in chosen:
            chosen.append(label)
    return chosen


def detection_device(devices: list[str]) -> str:
    return next((d for d in devices if d != "cpu"), devices[0])


def detection_target(device: str) -> str | torch.device:
    """Where copies and syncs are looked for: the GPU, or without one the stand-in GPU.

    On the CPU the question is what the step would do on CUDA, not what CPU kernels do.
    """
    return standin.ensure_backend() if device == "cpu" else device


def step_for(
    loaded: LoadedTarget, prof: ProfileOptions, device: str | torch.device
) -> AbstractContextManager[Step]:
    if loaded.model is None:
        raise NetscopeError(
            f"{loaded.path} is a checkpoint alone: there is no model to profile",
            path=loaded.path,
            hint="Profile the model file instead, with --weights CHECKPOINT.",
        )
    return prepared_step(
        loaded.model,
        loaded.example_input,
        device,
        step_fn=loaded.step_fn,
        loss_fn=loaded.loss_fn,
        train=loaded.options.train,
        optimizer=loaded.options.optimizer,
        optimizer_fn=loaded.optimizer_fn,
    )


def profile_target(
    loaded: LoadedTarget,
    prof: ProfileOptions,
    emit: Emit,
    sampler: SystemSampler | None = None,
) -> Profile:
    """Measure everything ``Profile`` holds, streaming each part through ``emit`` as it is ready."""
    devices = resolve_devices(prof.devices)
    own_sampler = sampler is None
    sampler = sampler or SystemSampler()
    try:
        summaries: list[TimingSummary] = []
        description = ""
        seen = StepSeen()
        for device in devices:
            emit(Progress("profiling", f"timing the step on {device}"))
            with step_for(loaded, prof, device) as step:
                description = step.description
                summaries.append(_time_device(step, device, prof, emit, sampler))
                seen = step.seen
            emit(TimingDone(summaries[-1]))
        # hooks and modes break dynamo's tracing: a compiled model's instrumented passes run its
        # original module eagerly; the headline timing above ran the compiled one
        hooked, compiled = eager_target(loaded)
        if compiled is not None:
            description += (
                f" of the {describe(compiled)} model; per-block timing, copies and syncs "
                "measured eagerly on the original module"
            )
        blocks: list[BlockTiming] = []
        for device in devices:
            emit(Progress("profiling", f"timing each block on {device}"))
            with step_for(hooked, prof, device) as step, eager(), instrumented("per-block timing"):
                rows = time_blocks(step.model, step.run, device)
            blocks.extend(rows)
            emit(BlockTimings(device, rows))
        where = detection_device(devices)
        emit(Progress("profiling", f"finding copies and syncs on {where}"))
        with (
            step_for(hooked, prof, detection_target(where)) as step,
            eager(),
            instrumented("copy and sync detection"),
        ):
            copies, syncs = detect(step.model, step.run, step.device)
        emit(CopiesFound(copies))
        emit(SyncsFound(syncs))
        emit(Progress("profiling", "measuring the interpreter lock"))
        with step_for(loaded, prof, where) as step:
            gil: GilReport = measure_gil(step.run)
        emit(GilMeasured(gil))
        system = sampler.sample()
        emit(SystemSampled(system))
        return Profile(
            devices=tuple(summaries),
            blocks=tuple(blocks),
            copies=copies,
            syncs=syncs,
            gil=gil,
            system=system,
            step=description,
            step_backward=seen.backward,
            step_autocast=seen.autocast,
        )
    finally:
        if own_sampler:
            sampler.close()


@contextmanager
def instrumented(part: str) -> Iterator[None]:
    """A failure that netscope's own hooks or modes caused names netscope, not the user's step."""
    try:
        yield
    except NetscopeError:
        raise
    except Exception as exc:
        blamed = blames_netscope(exc)
        if not blamed:
            raise
        what = f"the step's {part} pass"
        raise instrumentation_error(exc, what, f"{part}: {blamed}", None) from exc


def _time_device(
    step: Step, device: str, prof: ProfileOptions, emit: Emit, sampler: SystemSampler
) -> TimingSummary:
    last_system = [time.perf_counter()]

    def on_sample(iteration: int, ms: float) -> None:
        emit(TimingSample(device, iteration, ms))
        now = time.perf_counter()
        if now - last_system[0] >= SYSTEM_EVERY_S:
            last_system[0] = now
            emit(SystemSampled(sampler.sample()))

    return time_step(
        step.run,
        device,
        min_runs=prof.min_runs,
        max_seconds=prof.max_seconds,
        on_sample=on_sample,
    )
