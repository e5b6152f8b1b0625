"""The memory pass of the engine's front door (engine/api.py orders it after the snapshot): the
measured step's memory from the counters the example step left, and the meta replay's peak of
the same step beside it when ``--fit`` replayed it."""

from __future__ import annotations

from dataclasses import replace

from netscope.engine.compute.peaks import with_replay
from netscope.engine.compute.step import ComputePass
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import FitVerdict, Snapshot


def with_step_memory(snapshot: Snapshot, loaded: LoadedTarget, step: ComputePass) -> Snapshot:
    """``snapshot`` with its example step's memory (the optimizer replayed when --train)."""
    options = loaded.options
    memory = step.memory(options.train, options.optimizer, loaded.optimizer_fn)
    return replace(snapshot, memory=memory)


def with_replay_peak(snapshot: Snapshot, loaded: LoadedTarget) -> Snapshot:
    """One peak per report: the --fit replay's peak beside a measured step's, labelled why they
    differ (on meta the memory's peak already is the replay). A planned step other than the
    measured one (several GPUs, tensor parallel, checkpointing, mixed precision) is not set beside
    it: its peak is one GPU's share of another step (``fit.per_device``), not the same step."""
    if snapshot.fit is None or snapshot.memory is None or loaded.model is None:
        return snapshot
    if not same_step_as_measured(snapshot.fit):
        return snapshot
    memory = with_replay(
        snapshot.memory, loaded.model, snapshot.fit.needed_bytes, loaded.options.train
    )
    return replace(snapshot, memory=memory)


def same_step_as_measured(fit: FitVerdict) -> bool:
    """Whether --fit replayed the step the snapshot measured: one GPU, nothing sharded, split or
    checkpointed, no autocast (a pure --precision casts the measured step too)."""
    return (
        fit.devices == 1
        and fit.tp == 1
        and fit.shard == "none"
        and not fit.checkpoint
        and not fit.precision.endswith("-mixed")
    )
