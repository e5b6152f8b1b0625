"""The main model's snapshot under ``netscope run``: a walk of the user's module, never a call.

The script's model is often a wrapper (DistributedDataParallel's ``.module``, Lightning's
``_LightningModuleWrapperBase``, torch.compile's ``_orig_mod``): the tree shows the module under
it, paths without ``module.``, the wrapper named in a note. The snapshot runs no forward and no
backward (``snapshot_model`` with no example input walks the structure and reads the tensors);
the step's FLOPs, saved activations and memory come from the script's own step, observed
(``step_watch``), and are put into the tree's blocks here.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from netscope.engine.model import ForwardInfo, ParamInfo, Snapshot
from netscope.engine.run.step_watch import WatchedFigures
from netscope.engine.self_figures import with_self_figures
from netscope.engine.snapshot.classes import model_source, user_class

MAX_WRAPPERS = 8
# Lightning 1.x's wrapper and Fabric's: the user's module is their ``_forward_module``
FORWARD_MODULE_WRAPPERS = frozenset({"_LightningModuleWrapperBase", "_FabricModule"})
COMPILED = "OptimizedModule"  # torch.compile's: the user's module is its ``_orig_mod``


def unwrap(module: nn.Module) -> tuple[nn.Module, list[str]]:
    """The user's module under DDP / DataParallel / Lightning / accelerate / torch.compile
    wrappers, and the wrappers' class names, outermost first."""
    parallel = (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)
    wrappers: list[str] = []
    for _ in range(MAX_WRAPPERS):
        inner = None
        if isinstance(module, parallel):
            inner = module.module
        elif type(module).__name__ in FORWARD_MODULE_WRAPPERS:
            inner = getattr(module, "_forward_module", None)
        elif type(module).__name__ == COMPILED:
            inner = getattr(module, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            break
        wrappers.append(type(module).__name__)
        module = inner
    return module, wrappers


def is_compiled(wrappers: list[str]) -> bool:
    return COMPILED in wrappers


def static_snapshot(script: str, module: nn.Module, wrappers: list[str]) -> Snapshot:
    """The user's module walked, not run: structure, parameters, ties and their values."""
    from netscope.engine.load.loaded import LoadedTarget
    from netscope.engine.options import LoadOptions
    from netscope.engine.snapshot.build import snapshot_model

    options = LoadOptions(target=script, device=device_of(module), backward=False)
    loaded = LoadedTarget(
        options=options, path=script, model=module, source=model_source(user_class(module))
    )
    snapshot = snapshot_model(loaded)
    notes = [
        "netscope run never calls the model itself: the tree is walked, and FLOPs, saved "
        "activations and memory come from one of the script's own training steps, observed "
        "(per-block activation statistics, which need outputs netscope would keep, are not "
        "available)"
    ]
    if wrappers:
        chain = " > ".join(wrappers)
        notes.insert(0, f"the script's model is {chain}: shown is the module inside it")
    forward = ForwardInfo(ran=False, note="; ".join(notes))
    return with_findings_of(snapshot, replace(snapshot, forward=forward))


def with_findings_of(before: Snapshot, after: Snapshot) -> Snapshot:
    """``after`` (``before`` with facts replaced) with the model findings of its own facts: those
    ``before``'s facts gave go (a walked model's "add an example_input()" advice, a gradient
    finding from before the script's backward), the others stay."""
    from netscope.engine.snapshot.findings import model_findings

    stale = set(model_findings(before))
    kept = tuple(f for f in before.findings if f not in stale)
    return replace(after, findings=(*kept, *model_findings(after)))


def with_watched(snapshot: Snapshot, figures: WatchedFigures) -> Snapshot:
    """The snapshot with the observed step's FLOPs, saved bytes, calls and outputs per block,
    compute and memory."""
    calls = figures.block_calls or {}
    outputs = figures.outputs or {}
    counted = tuple(
        replace(
            block,
            forward_flops=figures.forward.get(block.path),
            backward_flops=None if figures.backward is None else figures.backward.get(block.path),
            saved_bytes=None if figures.saved is None else figures.saved.get(block.path),
            # a block not called may still lend its weights to another's forward (not watched
            # here): its calls are not available rather than 0 ("unused")
            calls=calls.get(block.path),
            outputs=outputs.get(block.path, block.outputs),
        )
        for block in snapshot.blocks
    )
    blocks = with_self_figures(counted)  # its own figures from the step's, not the walk's
    forward = replace(
        snapshot.forward,
        backward_ran=figures.compute.backward_flops is not None,
        loss_source="the script's own backward" if figures.compute.backward_flops else "",
    )
    return replace(
        snapshot, blocks=blocks, compute=figures.compute, memory=figures.memory, forward=forward
    )


def device_of(module: nn.Module) -> str:
    for tensor in (*module.parameters(), *module.buffers()):
        if not isinstance(tensor, torch.nn.parameter.UninitializedParameter):
            return str(tensor.device)
    return "cpu"


def with_script_state(
    snapshot: Snapshot, module: nn.Module, values: bool = True
) -> tuple[Snapshot, bool]:
    """The snapshot with the values of its parameters and buffers as the script's loop left them,
    gradient statistics from the script's own backward where it left gradients, and the findings
    they change: a run whose weights went NaN shows it. Each tensor is read once (a tied weight
    too), and a sharded one's local shard only: netscope runs no collective. Also says whether
    any gradient was read. ``values`` False: the gradients only (a snapshot just walked has
    read the values)."""
    from netscope.engine.snapshot.sharding import local_tensors
    from netscope.engine.snapshot.values import grad_stats, tensor_stats

    inner, _ = unwrap(module)
    tensors = {
        **dict(inner.named_parameters(remove_duplicate=False)),
        **dict(inner.named_buffers(remove_duplicate=False)),
    }
    unique: dict[int, torch.Tensor] = {}
    for info in (*snapshot.parameters, *snapshot.buffers):
        if info.name in tensors:
            unique.setdefault(id(tensors[info.name]), tensors[info.name])
    # gradients once the script's backward left any (a parameter without one reads "no
    # gradient"); a sharded (DTensor) one's of this rank's shard, as its values: no gather
    names = {p.name for p in snapshot.parameters}
    params = {id(t): t for name, t in tensors.items() if name in names}
    graded = params if any(t.grad is not None for t in params.values()) else {}
    with torch.no_grad():
        read = {}
        if values:
            stats = tensor_stats(local_tensors(list(unique.values())))
            read = dict(zip(unique, stats, strict=True))
        grads = dict(zip(graded, grad_stats(list(graded.values())), strict=True))

    def refreshed(info: ParamInfo) -> ParamInfo:
        tensor = tensors.get(info.name)
        if tensor is None:
            return info
        key = id(tensor)
        return replace(info, stats=read.get(key, info.stats), grad=grads.get(key, info.grad))

    after = replace(
        snapshot,
        parameters=tuple(refreshed(p) for p in snapshot.parameters),
        buffers=tuple(refreshed(b) for b in snapshot.buffers),
    )
    if grads:
        forward = replace(
            snapshot.forward, backward_ran=True, loss_source="the script's own backward"
        )
        after = replace(after, forward=forward)
    return with_findings_of(snapshot, after), bool(grads)
