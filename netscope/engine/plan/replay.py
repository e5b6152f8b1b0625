"""The step replayed per rank with torch's own FSDP2 on a fake process group, on fake tensors.

``dist.init_process_group("fake")`` gives world size N in one process: collectives do nothing
and return tensors of the right shape; the device mesh is made before the fake tensor mode is
entered. The model is a fake copy of a meta twin (nothing copied, the user's model untouched),
wrapped as asked: ``checkpoint_wrapper`` (non-reentrant) on the checkpointed blocks,
``fully_shard`` on every unit then the root (``MixedPrecisionPolicy`` for ``*-mixed``), or
``torch.autocast`` for a mixed step that is not FSDP. One step runs (forward, loss, backward,
the optimizer) and every storage it creates, resizes and frees is tracked. The process group is
destroyed and the modes exited in ``finally``: the caller is left as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.allocations import unique_bytes
from netscope.engine.plan.fake_copy import HALF, fake_copy, fake_values
from netscope.engine.plan.fake_world import fake_world, meshes_joined_outside_fake
from netscope.engine.plan.tracking import PlanMemory, TrackPlan, fsdp_seen
from netscope.engine.snapshot.forward import tensor_leaves


@dataclass(frozen=True)
class StepAsPlanned:
    """One rank's step: what it holds and its high-water mark (bytes)."""

    params_bytes: int  # this rank's parameters (shards under fsdp) and buffers
    grads_bytes: int  # this rank's gradients after the backward (before reduction: all of them)
    optimizer_bytes: int  # this rank's optimizer state
    activations_bytes: int  # what the forward leaves live for the backward (gathered params out)
    comm_buffers_bytes: int  # high water of FSDP's gathered parameters and collective buffers
    inputs_bytes: int
    forward_backward_peak: int  # above params + buffers + inputs, forward and backward
    after_backward: int  # live above them after the backward (the gradients, what is kept)
    optimizer_peak: int  # optimizer.step()'s own high water above what was live before it
    peak_at: str
    no_grad_params: bool = False  # the step trains nothing (every weight frozen)

    @property
    def peak_bytes(self) -> int:
        """The step from its second run on: optimizer state live throughout."""
        base = self.params_bytes + self.inputs_bytes
        during = base + self.forward_backward_peak + self.optimizer_bytes
        at_step = base + self.after_backward + self.optimizer_peak
        return max(during, at_step)

    @property
    def peak_where(self) -> str:
        base = self.params_bytes + self.inputs_bytes
        during = base + self.forward_backward_peak + self.optimizer_bytes
        return (
            "optimizer.step()"
            if base + self.after_backward + self.optimizer_peak > during
            else self.peak_at
        )


@dataclass
class StepRequest:
    """What to replay: the model (meta or real: only shapes are read) and the layout."""

    model: nn.Module
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    batch: Any  # what loss(output, batch) receives
    loss: Callable[[Any, Any], torch.Tensor | None]
    train: bool
    optimizer: Callable[[nn.Module], torch.optim.Optimizer] | None
    world: int = 1
    fsdp: bool = False
    units: tuple[str, ...] = ()
    checkpoint: tuple[str, ...] = ()
    precision: str = "fp32"
    tp: int = 1  # tensor-parallel ranks (the world is world x tp)
    tp_plan: dict[str, str] | None = None  # {path glob: "colwise" | "rowwise"}
    keep_blocks: tuple[str, tuple[str, ...]] | None = None  # (container, children removed)


def replay_step(request: StepRequest) -> StepAsPlanned:
    """One rank's step as planned (see the module's docstring)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    distributed = request.fsdp or request.tp > 1
    world = fake_world(request.world, request.tp) if distributed else contextlib.nullcontext()
    two_d = meshes_joined_outside_fake() if request.fsdp and request.tp > 1 else None
    fake = FakeTensorMode(allow_non_fake_inputs=False)
    with world as meshes, two_d or contextlib.nullcontext(), fake:
        model = fake_copy(request.model, request.precision, request.keep_blocks)
        args, kwargs, batch = fake_values((request.args, request.kwargs, request.batch))
        _wrap(model, request, meshes or (None, None))
        return _run(model, request, args, kwargs, batch)


def _wrap(model: nn.Module, request: StepRequest, meshes: tuple[Any, Any]) -> None:
    mesh, tp_mesh = meshes
    if request.tp > 1:
        from torch.distributed.tensor.parallel import parallelize_module

        parallelize_module(model, tp_mesh, tp_styles(model, request.tp_plan))
    if request.checkpoint:
        from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
            apply_activation_checkpointing,
            checkpoint_wrapper,
        )

        chosen = {id(model.get_submodule(path)) for path in request.checkpoint}
        apply_activation_checkpointing(
            model, checkpoint_wrapper_fn=checkpoint_wrapper, check_fn=lambda m: id(m) in chosen
        )
    if not request.fsdp:
        return
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    options: dict[str, Any] = {"mesh": mesh}
    if request.precision in ("bf16-mixed", "fp16-mixed"):
        half = HALF[request.precision.removesuffix("-mixed")]
        options["mp_policy"] = MixedPrecisionPolicy(param_dtype=half, reduce_dtype=torch.float32)
    for path in sorted(request.units, key=lambda p: -p.count(".")):  # inner units first
        fully_shard(_unit(model, path), **options)
    fully_shard(model, **options)


def tp_styles(model: nn.Module, plan: dict[str, str] | None) -> dict[str, Any]:
    """torch's ParallelStyle for every block a plan names (path globs; styles other than
    colwise and rowwise are left replicated)."""
    from fnmatch import fnmatchcase

    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel

    styles = {"colwise": ColwiseParallel, "rowwise": RowwiseParallel}
    found: dict[str, Any] = {}
    for path, _ in model.named_modules():
        for pattern, style in (plan or {}).items():
            if style in styles and fnmatchcase(path, pattern):
                found[path] = styles[style]()
    return found


def _unit(model: nn.Module, path: str) -> nn.Module:
    """The unit at ``path``; a checkpointed block is wrapped (its wrapper is the unit)."""
    parent, _, name = path.rpartition(".")
    module = model.get_submodule(parent) if parent else model
    return getattr(module, name) if hasattr(module, name) else model.get_submodule(path)


def _run(
    model: nn.Module, request: StepRequest, args: Any, kwargs: Any, batch: Any
) -> StepAsPlanned:
    params = list({id(p): p for p in model.parameters()}.values())
    trainable = [p for p in params if p.requires_grad]
    held = unique_bytes([_local(p) for p in params] + list(model.buffers()))
    inputs = unique_bytes(t for _, t in tensor_leaves([args, kwargs, batch]))
    memory = PlanMemory()
    memory.know([_local(p) for p in params] + list(model.buffers()))
    memory.know(t for _, t in tensor_leaves([args, kwargs, batch]))
    half = HALF.get(request.precision.removesuffix("-mixed"))
    autocast = (
        torch.autocast("cpu", dtype=half)
        if request.precision.endswith("-mixed") and not request.fsdp and half is not None
        else contextlib.nullcontext()
    )
    train = request.train and bool(trainable)
    hooks = _block_hooks(model, memory)
    try:
        with fsdp_seen(memory), TrackPlan(memory):
            model.train(request.train)
            with torch.set_grad_enabled(train), autocast:
                output = model(*args, **kwargs)
                activations = memory.current - memory.comm_current
                loss = request.loss(output, batch) if train else None
            if loss is None:
                return StepAsPlanned(
                    held, 0, 0, 0, memory.comm_high_water(set()), inputs, memory.peak,
                    memory.current, 0,
                    memory.peak_at or "forward", no_grad_params=request.train and not trainable,
                )  # fmt: skip
            memory.phase, memory.block = "backward", ""
            loss.backward()
            del output, loss
            local_grads = [_local(p.grad) for p in trainable if p.grad is not None]
            grads = unique_bytes(local_grads)
            comm = memory.comm_high_water({g.untyped_storage()._cdata for g in local_grads})
            fb_peak, fb_at, after = memory.peak, memory.peak_at, memory.current
            memory.phase = "optimizer.step()"
            memory.reset_peak()
            optimizer = _on_shards(model, request.optimizer or _adamw)
            optimizer.step()
            state = unique_bytes(
                v
                for s in optimizer.state.values()
                for v in s.values()
                if isinstance(v, torch.Tensor)
            )
            opt_peak = memory.peak - after
            return StepAsPlanned(
                held, grads, state, activations, comm, inputs, fb_peak, after,
                opt_peak, fb_at,
            )  # fmt: skip
    finally:
        for handle in hooks:
            handle.remove()


def _on_shards(
    model: nn.Module, build: Callable[[nn.Module], torch.optim.Optimizer]
) -> torch.optim.Optimizer:
    """The optimizer as built for the model, stepping plain tensors shaped as this rank's shards
    with their local gradients: the same state and temporaries a rank allocates, without
    DTensor's sharding propagation per foreach op (minutes for a 70B model)."""
    built = build(model)
    twins: dict[int, nn.Parameter] = {}
    for param in {id(p): p for group in built.param_groups for p in group["params"]}.values():
        twin = nn.Parameter(_local(param).detach(), param.requires_grad)  # the shard's storage
        twin.grad = None if param.grad is None else _local(param.grad)
        twins[id(param)] = twin
    for group in built.param_groups:  # not stepped yet: no state to move
        group["params"] = [twins[id(p)] for p in group["params"]]
    return built


def _adamw(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], foreach=True)


def _local(tensor: torch.Tensor) -> torch.Tensor:
    """A DTensor's local shard; a plain tensor itself."""
    local = getattr(tensor, "_local_tensor", None)
    return local if isinstance(local, torch.Tensor) else tensor


def _block_hooks(model: nn.Module, memory: PlanMemory) -> list[Any]:
    """The innermost running block's path, for where the peak was reached."""
    handles = []
    stack: list[str] = []
    for path, module in model.named_modules():
        clean = path.replace("._checkpoint_wrapped_module", "")

        def enter(_m: Any, _a: Any, clean: str = clean) -> None:
            stack.append(clean)
            memory.block = clean

        def leave(_m: Any, _a: Any, _o: Any) -> None:
            if stack:
                stack.pop()
            memory.block = stack[-1] if stack else ""

        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    return handles
