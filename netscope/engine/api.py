"""The engine's front door: options in, Snapshot out (the CLI, the worker, the run agent and the
app call this). It orders the passes: load, unwrap a compiled model, snapshot it (structure and
the example step's FLOPs and saved bytes), the step's memory from what that step counted, then
the ``--fit`` verdict on meta and its replay peak beside the measured one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from netscope.engine.compute.devices import capacity
from netscope.engine.compute.fit import fit_verdict
from netscope.engine.compute.gates import FIT_NOT_AVAILABLE
from netscope.engine.errors import NetscopeError
from netscope.engine.gc_hold import gc_paused
from netscope.engine.load.compiled import compile_note, compiled_blocks, eager, eager_target
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.load.target import load_target
from netscope.engine.model import Finding, Snapshot
from netscope.engine.options import LoadOptions
from netscope.engine.plan.layout import layout_of, split_devices, tp_heads_error
from netscope.engine.plan.units import pattern_hint, unmatched
from netscope.engine.snapshot.build import snapshot_with_step
from netscope.engine.snapshot.forward import ForwardRecord, call_in_step
from netscope.engine.step_memory import with_replay_peak, with_step_memory

__all__ = ["load_target", "snapshot_loaded", "take_snapshot"]

Progress = Callable[[str], None] | None


def take_snapshot(options: LoadOptions, progress: Progress = None) -> Snapshot:
    """Load the target named in ``options`` and snapshot it."""
    return snapshot_loaded(load_target(options, progress), progress)


def snapshot_loaded(loaded: LoadedTarget, progress: Progress = None) -> Snapshot:
    """Snapshot a loaded target: its structure and example step, the step's memory, and the
    --fit verdict when asked.

    A torch.compile'd model is described by its original module (``_orig_mod``), whose example
    forward runs eagerly (netscope's hooks break dynamo's tracing); the note says so.
    """
    loaded, compiled = eager_target(loaded)
    if loaded.options.fit or loaded.options.memory_budget:
        checked_fit_options(loaded)  # a mistyped device or layout costs no snapshot first
    with eager(), gc_paused():
        snapshot, step = snapshot_with_step(loaded, progress)  # the model left as it was
        if step is not None:
            snapshot = with_step_memory(snapshot, loaded, step)
        del step  # its counters hold the step's bookkeeping: not kept past the memory pass
        snapshot = with_replay_peak(with_fit(loaded, snapshot, progress), loaded)
    note = compile_note(compiled, [] if loaded.model is None else compiled_blocks(loaded.model))
    if not note:
        return snapshot
    joined = "; ".join(n for n in (note, snapshot.forward.note) if n)
    return replace(snapshot, forward=replace(snapshot.forward, note=joined))


def with_fit(loaded: LoadedTarget, snapshot: Snapshot, progress: Progress = None) -> Snapshot:
    """``snapshot`` with the --fit verdict (the step replayed on meta), or a finding saying why
    there is none."""
    options = loaded.options
    asked = (
        f"--fit {options.fit}"
        if options.fit
        else (f"--memory-budget {options.memory_budget} B" if options.memory_budget else "")
    )
    if not asked:
        return snapshot
    if snapshot.compute is not None:
        if progress is not None:
            progress(f"will it fit ({asked})")
        blocks = {b.path: (b.forward_flops, b.saved_bytes) for b in snapshot.blocks}
        try:
            fit = fit_verdict(loaded, fit_call(loaded), blocks)
        except Exception as error:  # the report keeps everything else, and says why
            first = (str(error).splitlines() or [""])[0][:200]
            why = (
                str(error)
                if isinstance(error, NetscopeError)
                else f"{type(error).__name__}: {first}"
            )
            finding = Finding("warning", FIT_NOT_AVAILABLE, f"{asked}: not available, {why}")
            return replace(snapshot, findings=(*snapshot.findings, finding))
        return replace(snapshot, fit=fit)
    if snapshot.kind != "model":
        return snapshot
    why = snapshot.forward.note or "no example forward ran"
    finding = Finding(
        "warning",
        FIT_NOT_AVAILABLE,
        f"{asked}: not available, the step's memory needs its example forward ({why})",
    )
    return replace(snapshot, findings=(*snapshot.findings, finding))


def checked_fit_options(loaded: LoadedTarget) -> None:
    """Raise NetscopeError for a --fit device or layout netscope does not know (before the
    snapshot: an error, not a finding, and not after a whole example step)."""
    options = loaded.options
    if options.fit and options.memory_budget is not None:  # two capacities: one was ignored
        count = split_devices(options.fit)[0]
        raise NetscopeError(
            f"--memory-budget with --fit {options.fit}: give the GPUs' capacity once",
            hint=f"a budget per GPU on {count} GPUs is --fit {count}x60GiB (a size, no "
            "CUDA-context allowance); --memory-budget alone plans one device",
        )
    if options.fit:
        capacity(split_devices(options.fit)[1], options.fit)
    layout_of(
        options.fit, options.shard, options.tp, options.precision, options.dtype,
        options.checkpoint, options.shard_units,
    )  # fmt: skip
    if loaded.model is None:
        return
    heads = "" if loaded.tp_plan_fn is not None else tp_heads_error(loaded.model, options.tp)
    if heads:
        raise NetscopeError(
            f"--tp {options.tp}: {heads}",
            hint="each GPU takes whole heads: give a --tp that divides them (and the GPU count)",
        )
    asked = [("--shard-units", options.shard_units)]
    if options.checkpoint not in ("none", "all", "auto", ""):
        asked.append(("--checkpoint", options.checkpoint))
    for flag, patterns in asked:
        missing = unmatched(loaded.model, patterns) if patterns else []
        if missing:
            raise NetscopeError(
                f"{flag} {patterns}: {', '.join(missing)} matches no block of "
                f"{type(loaded.model).__name__}",
                hint=pattern_hint(loaded.model),
            )


def fit_call(loaded: LoadedTarget) -> ExampleInput | None:
    """The model's arguments for --fit: what step() passes it, else example_input()."""
    if loaded.example_input is None:
        return None
    if loaded.step_fn is not None and loaded.model is not None:
        return call_in_step(loaded, ForwardRecord()) or loaded.example_input
    return loaded.example_input
