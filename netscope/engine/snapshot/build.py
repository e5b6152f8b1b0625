"""``snapshot_model``: everything about a loaded model in one frozen Snapshot, model left unchanged.

The example forward runs in eval mode (dropout off, BatchNorm uses and does not update its
running statistics), or with ``--train`` as a training loop runs it (StepMode restores buffers,
RNG and flags after it). The step's memory is not assembled here: engine/api.py orders it after
the snapshot (engine/step_memory.py), from the counters this step leaves. Hooks are removed, every
module's train/eval flag and every parameter's ``.grad`` are restored in ``finally``. Lazy
parameters are materialized by the forward: that is the one change, and it is what the user
asked to see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.step import ComputePass
from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.load.device import device_label, resolve_device
from netscope.engine.load.example import describe
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import ForwardInfo, ParamInfo, Snapshot
from netscope.engine.modes import training_flags_kept
from netscope.engine.snapshot.blocks import build_blocks, first_path_unregistered
from netscope.engine.snapshot.classes import user_class
from netscope.engine.snapshot.findings import META_FORWARD_FAILED, model_findings
from netscope.engine.snapshot.forward import (
    ForwardRecord,
    StepMode,
    install_hooks,
    run_backward,
    run_forward,
)
from netscope.engine.snapshot.lightmeta import light_meta_forward
from netscope.engine.snapshot.sharding import (
    local_tensors,
    sharded_parameters,
    sharding_loaded,
    with_sharding,
)
from netscope.engine.snapshot.special import (
    PackedTensor,
    derived_tensors,
    packed_tensors,
    source_notes,
)
from netscope.engine.snapshot.tensors import (
    TensorEntry,
    count_params,
    held_bytes,
    param_info,
    tie_groups,
)
from netscope.engine.snapshot.values import grad_stats, tensor_stats

Progress = Callable[[str], None] | None
Stepped = tuple[Snapshot, ComputePass | None]  # the snapshot and its example step's counters
COUNT_COMPUTE = True  # False only in benchmarks/bench_compute.py: the snapshot without counters


def _entries(
    named: list[tuple[str, nn.Module]], notes: dict[str, tuple[str, str]]
) -> tuple[list[TensorEntry], list[TensorEntry]]:
    """Parameters (and a quantized module's packed weights) and buffers under every path."""
    params, buffers = [], []
    unpacked: dict[int, list[PackedTensor]] = {}  # once per module object: ties stay ties
    sharded = sharded_parameters(m for _, m in named) if sharding_loaded() else {}
    for path, module in named:
        prefix = f"{path}." if path else ""
        for attr, registered in module._parameters.items():
            param: torch.Tensor | None = registered
            if sharded:  # FSDP2's own DTensor, not an unsharded (maybe freed) tensor
                param = sharded.get((id(module), attr), registered)
            if param is not None:
                params.append(
                    TensorEntry(f"{prefix}{attr}", path, attr, "parameter", param,
                                requires_grad=param.requires_grad)
                )  # fmt: skip
        if id(module) not in unpacked:
            unpacked[id(module)] = packed_tensors(module)
        for packed in unpacked[id(module)]:
            params.append(
                TensorEntry(f"{prefix}{packed.attribute}", path, packed.attribute, "parameter",
                            packed.tensor, role="packed", note=packed.note)
            )  # fmt: skip
        skipped = module._non_persistent_buffers_set
        for attr, buf in module._buffers.items():
            if buf is not None:
                buffers.append(
                    TensorEntry(f"{prefix}{attr}", path, attr, "buffer", buf, attr not in skipped)
                )
    for entry in (*params, *buffers):
        if entry.name in notes:
            entry.role, entry.note = notes[entry.name]
    return params, buffers


def no_input_note(loaded: LoadedTarget) -> str:
    shown = display_path(loaded.path)
    if not loaded.path.endswith(".py"):  # a checkpoint holding a module, a save_pretrained folder
        return (
            f"No example input: no --input-shape was given for {shown}, so calls, output shapes, "
            "activations and gradients are not shown. Pass e.g. --input-shape 1,3,224,224, or "
            "--input-shape 1,16 --input-dtype int64 for token ids."
        ) + "".join(f" {extra.rstrip('.')}." for extra in loaded.checkpoint_notes)
    return (
        f"No example input: {shown} defines no example_input() and no --input-shape was given, "
        "so calls, output shapes, activations and gradients are not shown (and lazy layers stay "
        f"uninitialized). Add `def example_input(): return torch.randn(2, 20)` (your shape) to "
        f"{shown}, or pass e.g. --input-shape 2,20."
    )


def snapshot_model(loaded: LoadedTarget, progress: Progress = None) -> Snapshot:
    """The snapshot of an eager model: structure and the example step's figures, no memory
    (engine/api.py's ``snapshot_loaded`` orders the memory and --fit passes after it); a
    checkpoint alone goes to ``snapshot.checkpoint``."""
    return snapshot_with_step(loaded, progress)[0]


def snapshot_with_step(loaded: LoadedTarget, progress: Progress = None) -> Stepped:
    """``snapshot_model``'s snapshot, and the counters of its example step when one ran (what
    the memory pass reads: engine/step_memory.py)."""
    if loaded.model is None:
        from netscope.engine.snapshot.checkpoint import snapshot_checkpoint

        return snapshot_checkpoint(loaded, progress), None
    named = list(loaded.model.named_modules())  # the one walk before the forward
    modules = [module for _, module in named]
    with training_flags_kept(loaded.model, modules):
        return _snapshot_module(loaded, loaded.model, named, progress)


def _snapshot_module(
    loaded: LoadedTarget, model: nn.Module, named: list[tuple[str, nn.Module]], progress: Progress
) -> Stepped:
    """``named``: ``model.named_modules()`` before the forward."""
    device = resolve_device(loaded.options.device)
    on_meta = device.type == "meta"
    modules = [module for _, module in named]
    unique_params = unique_parameters(modules)
    saved_grads = [(p, p.grad) for p in unique_params]
    record = ForwardRecord()
    handles: list[Any] = []
    forward_info = ForwardInfo(ran=False, note=no_input_note(loaded))
    step_mode: StepMode | None = None
    try:
        train = loaded.options.train and loaded.example_input is not None
        step_mode = StepMode(model, train, modules)
        for param in unique_params:
            param.grad = None
        if loaded.example_input is not None:
            options = loaded.options
            want_backward = options.backward and (not on_meta or options.train)
            handles = install_hooks(model, record, stats=not on_meta, named=named)
            buffers = unique_buffers(modules)
            counting = ComputePass(model, record.paths, device, unique_params, buffers)
            record.counter = counting.counter if COUNT_COMPUTE else None
            counting.inputs(loaded.example_input)
            _say(progress, "example forward")
            try:
                with (
                    light_meta_forward() if on_meta else contextlib.nullcontext(),
                    counting.forward(want_backward) if COUNT_COMPUTE else contextlib.nullcontext(),
                ):
                    skipped = run_forward(loaded, record, with_grad=want_backward)
            except NetscopeError as error:
                if not on_meta:
                    raise
                with torch.no_grad():  # the structure is complete without the forward
                    failed = meta_forward_failed(error)
                    return _assemble(loaded, model, record, failed, device), None
            finally:
                for handle in handles:
                    handle.remove()
                handles = []
                record.counter = None
            if skipped is not None:
                forward_info = ForwardInfo(ran=False, note="; ".join([*record.notes, skipped]))
                with torch.no_grad():
                    return _assemble(loaded, model, record, forward_info, device), None
            if want_backward:
                _say(progress, "backward")
                with (
                    light_meta_forward() if on_meta else contextlib.nullcontext(),
                    counting.backward() if COUNT_COMPUTE else contextlib.nullcontext(),
                ):
                    run_backward(loaded, record)
            counting.note_grads(record.backward_ran)
            # the output holds the step's autograd graph (a node per op, netscope's hooks on
            # them): let it go before the statistics (20,000 blocks: peak RSS -15 MiB)
            record.output = None
            step_mode.restore()  # the user's buffers before the statistics read them
            notes = list(record.notes)
            if on_meta:
                notes.insert(0, "meta device: shapes only, no values, statistics or gradients")
            forward_info = ForwardInfo(
                ran=True,
                input_summary=describe(record.call or loaded.example_input),
                backward_ran=record.backward_ran,
                loss_source=record.loss_source if record.backward_ran else "",
                note="; ".join(notes),
            )
            _say(progress, "statistics")
            with torch.no_grad():
                snapshot = _assemble(loaded, model, record, forward_info, device, counting)
            return snapshot, counting
        _say(progress, "statistics")
        with torch.no_grad():
            return _assemble(loaded, model, record, forward_info, device), None
    finally:
        for handle in handles:
            handle.remove()
        if step_mode is not None:
            step_mode.restore()
        for param, grad in saved_grads:
            param.grad = grad


def first_paths(named: list[tuple[str, nn.Module]]) -> list[tuple[str, nn.Module]]:
    """``model.named_modules()`` from its ``remove_duplicate=False`` walk: each module at its
    first path, in the same order (a module seen again was seen with all its children)."""
    seen: set[int] = set()
    first = []
    for path, module in named:
        if id(module) not in seen:
            seen.add(id(module))
            first.append((path, module))
    return first


def unique_parameters(modules: list[nn.Module]) -> list[nn.Parameter]:
    """``model.parameters()`` from its walked modules: each parameter once, in the same order
    (20,000 blocks: 8 ms instead of the 40 ms of a second walk)."""
    found = {id(p): p for m in modules for p in m._parameters.values() if p is not None}
    return list(found.values())


def unique_buffers(modules: list[nn.Module]) -> list[torch.Tensor]:
    """``model.buffers()`` from its walked modules, each buffer once, in the same order."""
    found = {id(b): b for m in modules for b in m._buffers.values() if b is not None}
    return list(found.values())


def meta_forward_failed(error: NetscopeError) -> ForwardInfo:
    """On meta, value-dependent code cannot run; the structure is still worth showing."""
    where = f" (at {error.location})" if error.location else ""
    return ForwardInfo(
        ran=False,
        note=(
            f"{META_FORWARD_FAILED} {error.message}{where}. Meta tensors hold no values, so "
            "code that reads them (.item(), `if t:`, nonzero...) fails there. Blocks, "
            "parameters, ties and counts are complete; for calls and output shapes use "
            "--device cpu (or cuda)."
        ),
    )


def _say(progress: Progress, stage: str) -> None:
    if progress is not None:
        progress(stage)


def _assemble(
    loaded: LoadedTarget,
    model: nn.Module,
    record: ForwardRecord,
    forward_info: ForwardInfo,
    device: torch.device,
    counting: ComputePass | None = None,
) -> Snapshot:
    named = list(model.named_modules(remove_duplicate=False))
    derived_at = {path: tuple(derived_tensors(path, module)) for path, module in named}
    derived = tuple(d for path, _ in first_paths(named) for d in derived_at[path])
    param_entries, buffer_entries = _entries(named, source_notes(list(derived)))
    ties, tie_index = tie_groups(param_entries)
    first_seen: dict[int, int] = {}
    for i, entry in enumerate(param_entries):
        first_seen.setdefault(id(entry.tensor), i)
    unique = sorted(set(first_seen.values()))
    locals_ = local_tensors([param_entries[i].tensor for i in unique])  # a DTensor's shard
    unique_stats = dict(zip(unique, tensor_stats(locals_), strict=False))
    unique_grads: dict[int, Any] = {}
    if record.backward_ran:
        grads = grad_stats([param_entries[i].tensor for i in unique])
        unique_grads = dict(zip(unique, grads, strict=False))
    params: list[ParamInfo] = []
    for entry in param_entries:
        first = first_seen[id(entry.tensor)]
        params.append(
            param_info(
                entry, unique_stats[first], unique_grads.get(first), tie_index.get(entry.name),
                entry.name in loaded.lazy_at_build,
            )
        )  # fmt: skip
    buffer_stats = tensor_stats(local_tensors([e.tensor for e in buffer_entries]))
    buffers = [
        param_info(e, s, None, None, e.name in loaded.lazy_at_build)
        for e, s in zip(buffer_entries, buffer_stats, strict=False)
    ]
    counts = count_params(params, ties, [p for p, _ in named])
    per_block = counting.blocks(forward_info.ran, record.backward_ran) if counting else None
    blocks = build_blocks(
        named, counts, params, buffers, record if forward_info.ran else None, derived_at,
        per_block,
    )  # fmt: skip
    blocks = with_sharding(blocks, named)
    unregistered = first_path_unregistered(named, blocks)
    devices = tuple(sorted({p.device for p in (*params, *buffers)}))
    snapshot = Snapshot(
        target=display_path(loaded.path),
        kind="model",
        model_class=user_class(model).__name__,
        device=device_label(device),
        blocks=blocks,
        parameters=tuple(params),
        buffers=tuple(buffers),
        ties=ties,
        unregistered=unregistered,
        forward=forward_info,
        total_params=counts.total,
        trainable_params=counts.trainable,
        total_bytes=held_bytes(params, buffers),
        checkpoint=loaded.checkpoint_diff,
        source=loaded.source,
        devices=devices,
        derived=derived,
        compute=counting.compute(record.backward_ran) if counting and forward_info.ran else None,
    )
    return replace(snapshot, findings=(*record.findings, *model_findings(snapshot)))
