"""An in-memory model as the engine's ``LoadedTarget``: the same passes ``netscope report`` runs
on a model file, with the model the caller already holds.

The engine leaves a model as it found it (hooks removed, training flags, ``.grad`` and buffers
restored). Three things would still change it in place, so they run on a copy instead: lazy
layers (the example forward materialises them), a ``device`` other than the model's own, and a
pure ``precision`` cast. The copy shares nothing with the caller's model; ties stay ties.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from netscope.engine.errors import NetscopeError
from netscope.engine.load.dtype import cast_value, resolve_dtype
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.load.target import lazy_tensor_names
from netscope.engine.nested import map_tensors
from netscope.engine.options import OPTIMIZER_CHOICES, LoadOptions
from netscope.engine.snapshot.classes import model_source

PRECISIONS = ("fp32", "bf16", "fp16", "bf16-mixed", "fp16-mixed")
PURE_CASTS = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}  # as cli.py's --precision
INPUT_ORIGIN = "netscope.inspect()"

OptimizerArg = str | Callable[[nn.Module], Any] | torch.optim.Optimizer | None
LossFn = Callable[[Any, Any], torch.Tensor]
StepFn = Callable[[nn.Module, Any], Any]
SHARDS = ("none", "ddp", "zero1", "zero2", "fsdp")  # as cli.py's --shard


@dataclass(frozen=True)
class Asked:
    """What the caller of ``netscope.inspect`` asked for, besides the model and its inputs."""

    train: bool = False
    optimizer: OptimizerArg = None
    precision: str | None = None
    fit: str | None = None
    device: str | torch.device | None = None
    input_size: tuple[int, ...] | None = None
    loss: LossFn | None = None  # a model file's loss(output, batch)
    step: StepFn | None = None  # a model file's step(model, batch)
    shard: str | None = None
    shard_units: str | None = None
    tp: int = 1
    checkpoint: str = "none"
    memory_budget: int | str | None = None  # bytes, or "24GiB"
    tp_plan: Mapping[str, str] | Callable[[nn.Module], Any] | None = None  # a file's tp_plan()


def target_label(model: nn.Module) -> str:
    """What reports name as the target of an in-memory model (a model file's path otherwise)."""
    return f"<in-memory {type(model).__name__}>"


def home_device(model: nn.Module) -> torch.device:
    """Where the model lives: its first parameter's or buffer's device; the CPU when empty."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def first_floating_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the first floating parameter (torchinfo's choice for ``input_size``)."""
    for param in model.parameters():
        if param.is_floating_point() and not is_lazy(param):
            return param.dtype
    return torch.get_default_dtype()


def random_batch(shape: tuple[int, ...], dtype: torch.dtype) -> ExampleInput:
    """A seeded normal batch, the values ``--input-shape`` makes (generator seeded with 0)."""
    generator = torch.Generator().manual_seed(0)
    tensor = torch.randn(shape, generator=generator).to(dtype)
    return ExampleInput(args=(tensor,), origin=f"input_size={tuple(shape)}")


class SameKind:
    """``optimizer(model)`` making an optimizer of the caller's class and settings (never the
    caller's own: its state belongs to their run); picklable, so a profiling worker gets it."""

    def __init__(self, kind: type[torch.optim.Optimizer], settings: dict[str, Any]) -> None:
        self.kind, self.settings = kind, settings

    def __call__(self, model: nn.Module) -> torch.optim.Optimizer:
        return self.kind([p for p in model.parameters() if p.requires_grad], **self.settings)


def _optimizer_parts(optimizer: OptimizerArg) -> tuple[str, Callable[[nn.Module], Any] | None]:
    """``--optimizer``'s name, or a factory ``optimizer(model)`` as a model file defines it."""
    if optimizer is None:
        return "sgd", None
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZER_CHOICES:
            raise NetscopeError(
                f"unknown optimizer {optimizer!r}",
                hint=f"optimizer= takes one of {', '.join(OPTIMIZER_CHOICES)}, a torch optimizer "
                "or a function optimizer(model)",
            )
        return optimizer, None
    if isinstance(optimizer, torch.optim.Optimizer):  # its class and settings, on netscope's copy
        return "sgd", SameKind(type(optimizer), dict(optimizer.defaults))
    if callable(optimizer):
        return "sgd", optimizer
    raise NetscopeError(
        f"optimizer={type(optimizer).__name__!r} is not an optimizer",
        hint=f"pass one of {', '.join(OPTIMIZER_CHOICES)}, a torch optimizer or optimizer(model)",
    )


def load_options(model: nn.Module, asked: Asked) -> LoadOptions:
    """The options ``netscope report`` would get for the same question."""
    if asked.precision is not None and asked.precision not in PRECISIONS:
        raise NetscopeError(
            f"unknown precision {asked.precision!r}", hint=f"one of {', '.join(PRECISIONS)}"
        )
    device = str(asked.device) if asked.device is not None else str(home_device(model))
    name, _ = _optimizer_parts(asked.optimizer)
    return LoadOptions(
        target=target_label(model),
        device=device,
        train=asked.train,
        optimizer=name,
        dtype=PURE_CASTS.get(asked.precision or ""),
        fit=asked.fit,
        precision=asked.precision,
        **_layout(asked),
    )


def _layout(asked: Asked) -> dict[str, Any]:
    """The plan's options (``--shard``, ``--shard-units``, ``--tp``, ``--checkpoint``,
    ``--memory-budget``), checked as the CLI checks them."""
    if asked.shard is not None and asked.shard not in SHARDS:
        raise NetscopeError(f"unknown shard {asked.shard!r}", hint=f"one of {', '.join(SHARDS)}")
    if not isinstance(asked.tp, int) or isinstance(asked.tp, bool) or asked.tp < 1:
        raise NetscopeError(f"tp={asked.tp!r} is not a tensor-parallel degree (1, 2, 8...)")
    return {
        "shard": asked.shard,
        "shard_units": asked.shard_units,
        "tp": asked.tp,
        "checkpoint": asked.checkpoint,
        "memory_budget": _budget(asked.memory_budget),
    }


def _tp_plan_fn(
    tp_plan: Mapping[str, str] | Callable[[nn.Module], Any] | None,
) -> Callable[[nn.Module], Any] | None:
    """A model file's ``tp_plan(model)`` from a ``{path glob: "colwise" | "rowwise"}`` or a
    function."""
    if tp_plan is None or callable(tp_plan):
        return tp_plan
    plan = dict(tp_plan)
    return lambda _model: plan


def _budget(budget: int | str | None) -> int | None:
    from netscope.engine.compute.devices import parse_size

    if budget is None:
        return None
    size = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
    if isinstance(budget, str):
        size = parse_size(budget)
    if size is None or size <= 0:
        raise NetscopeError(
            f"memory_budget={budget!r} is not a size", hint="bytes, or '24GiB', '80GB'"
        )
    return size


def needs_copy(model: nn.Module, options: LoadOptions) -> bool:
    """Whether the engine's passes would change the caller's model in place."""
    wanted = torch.device(options.device)
    tensors = [*model.parameters(), *model.buffers()]
    moved = any(not _same_device(t.device, wanted) for t in tensors)
    cast = options.dtype is not None and any(
        t.is_floating_point() and t.dtype != resolve_dtype(options.dtype) for t in tensors
    )
    return moved or cast or bool(lazy_tensor_names(model))


def _same_device(have: torch.device, wanted: torch.device) -> bool:
    if have.type != wanted.type:
        return False
    return wanted.index is None or have.index in (None, wanted.index)


def working_copy(model: nn.Module, options: LoadOptions) -> nn.Module:
    """A deep copy placed and cast as ``options`` say, each tensor converted once (a tie stays
    one tensor); lazy parameters are copied uninitialised."""
    device = torch.device(options.device)
    dtype = resolve_dtype(options.dtype) if options.dtype else None

    def convert(tensor: torch.Tensor) -> torch.Tensor:
        floating = dtype if dtype is not None and tensor.is_floating_point() else None
        if device.type == "meta":
            return torch.empty_like(tensor, device="meta", dtype=floating)
        return tensor.detach().to(device=device, dtype=floating, copy=True)

    def uninitialised(tensor: torch.Tensor) -> torch.Tensor:
        dtype_of = dtype if dtype is not None and tensor.dtype.is_floating_point else tensor.dtype
        parameter = isinstance(tensor, nn.Parameter)
        # torch's __new__ takes device and dtype; its type stubs say otherwise
        lazy_kind: Any = nn.UninitializedParameter if parameter else nn.UninitializedBuffer
        requires_grad = parameter and tensor.requires_grad
        made: torch.Tensor = lazy_kind(requires_grad=requires_grad, device=device, dtype=dtype_of)
        return made

    memo: dict[int, Any] = {}
    for tensor in (*model.parameters(), *model.buffers()):
        if id(tensor) in memo:
            continue
        if is_lazy(tensor):  # still lazy, on the device: the forward materialises it there
            memo[id(tensor)] = uninitialised(tensor)
        elif isinstance(tensor, nn.Parameter):
            memo[id(tensor)] = nn.Parameter(convert(tensor), tensor.requires_grad)
        else:
            memo[id(tensor)] = convert(tensor)
    try:
        twin = copy.deepcopy(model, memo)
    except Exception as error:
        raise NetscopeError(
            f"copying the model failed ({type(error).__name__}: {error}); netscope copies it "
            "for lazy layers, a device or a precision cast, so the caller's model never changes",
            hint="Run its first forward yourself, or leave device= and precision= unset.",
        ) from error
    return twin


def example_input(
    model: nn.Module, args: tuple[Any, ...], kwargs: Mapping[str, Any], asked: Asked
) -> ExampleInput | None:
    """The forward's arguments: ``*args, **kwargs`` as given, or a batch of ``input_size``."""
    if asked.input_size is not None:
        if args or kwargs:
            raise NetscopeError("pass the forward's arguments or input_size=, not both")
        return random_batch(tuple(asked.input_size), first_floating_dtype(model))
    if not args and not kwargs:
        return None
    usable_args = map_tensors(_usable, tuple(args))
    usable_kwargs = map_tensors(_usable, dict(kwargs))
    return ExampleInput(args=usable_args, kwargs=usable_kwargs, origin=INPUT_ORIGIN)


def _usable(tensor: torch.Tensor) -> torch.Tensor:
    """A tensor made under ``inference_mode()`` cannot be saved for backward: its copy can."""
    return tensor.clone() if tensor.is_inference() else tensor


def loaded_target(
    model: nn.Module, args: tuple[Any, ...], kwargs: Mapping[str, Any], asked: Asked
) -> LoadedTarget:
    """The LoadedTarget for ``model`` (or its working copy) and the forward's arguments."""
    if not isinstance(model, nn.Module):
        raise NetscopeError(f"netscope.inspect takes an nn.Module, not {type(model).__name__}")
    options = load_options(model, asked)
    _, optimizer_fn = _optimizer_parts(asked.optimizer)
    example = example_input(model, args, kwargs, asked)
    lazy = lazy_tensor_names(model)
    target = working_copy(model, options) if needs_copy(model, options) else model
    if example is not None:  # as load_target does: the batch where the step runs (new tensors)
        moved = example.to(options.device)
        example = moved if options.dtype is None else _cast(moved, options.dtype)
    return LoadedTarget(
        options=options,
        path=options.target,
        model=target,
        example_input=example,
        optimizer_fn=optimizer_fn,
        loss_fn=asked.loss,
        step_fn=asked.step,
        tp_plan_fn=_tp_plan_fn(asked.tp_plan),
        source=model_source(type(model)),
        lazy_at_build=lazy,
    )


def _cast(example: ExampleInput, dtype: str) -> ExampleInput:
    return ExampleInput(
        args=cast_value(example.args, dtype),
        kwargs=cast_value(example.kwargs, dtype),
        origin=example.origin,
        from_list=example.from_list,
        location=example.location,
    )
