"""``--fit [Nx]DEVICE`` with a layout (or ``--memory-budget``): one GPU's share of the step as
planned, whether it fits, the fewest GPUs that do, the largest micro-batch, and with
``--checkpoint auto`` the blocks to checkpoint. The one entry point: ``plan_verdict``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from netscope.engine.compute.devices import size_note, usable_capacity
from netscope.engine.compute.fit_search import largest_batch, meta_copy
from netscope.engine.compute.loss import step_loss
from netscope.engine.compute.meta_step import batch_size, scaled_together
from netscope.engine.errors import NetscopeError
from netscope.engine.load.example import batch_of
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import FitVerdict, PerDevice
from netscope.engine.plan.arithmetic import per_device
from netscope.engine.plan.auto import auto_checkpoint, checkpoint_code
from netscope.engine.plan.layout import DTYPE_PRECISION, Layout, layout_of, split_devices
from netscope.engine.plan.repeat import replay_repeated
from netscope.engine.plan.replay import StepAsPlanned, StepRequest, replay_step
from netscope.engine.plan.units import checkpointed, shard_units

MAX_DEVICES = 4096  # the GPU-count search stops here


@dataclass
class Planner:
    """Estimates one GPU's share at a GPU count, a batch and a set of checkpointed blocks."""

    loaded: LoadedTarget
    model: nn.Module
    call: ExampleInput
    layout: Layout
    units: tuple[str, ...]
    batch: int | None
    frozen: bool = False  # --train with every weight frozen: the step is a forward
    replays: dict[tuple[Any, ...], StepAsPlanned] = field(default_factory=dict)
    tp_plan: dict[str, str] | None = None  # {path glob: style} for --tp

    def estimate(
        self, devices: int, checkpoint: tuple[str, ...], new_batch: int | None = None
    ) -> PerDevice:
        """One GPU's share (PerDevice) of the step at ``devices`` GPUs."""
        b = self.batch or 1
        new = new_batch or b
        loaded = self.loaded
        example = loaded.example_input or self.call  # loss() takes example_input()'s batch
        train = loaded.options.train
        dp = devices // self.layout.tp
        fsdp = self.layout.shard == "fsdp" and dp > 1
        optimizer = loaded.optimizer_fn or _named_optimizer(loaded.options.optimizer)
        args, kwargs, batch = scaled_together(
            (self.call.args, self.call.kwargs, batch_of(example)), b, new
        )
        request = StepRequest(
            model=self.model,
            args=args,
            kwargs=kwargs,
            batch=batch,
            loss=lambda output, batch: step_loss(output, batch, loaded.loss_fn),
            train=train,
            optimizer=optimizer,
            world=dp,
            fsdp=fsdp,
            units=self.units if fsdp else (),
            checkpoint=checkpoint,
            precision=self.layout.precision,
            tp=self.layout.tp,
            tp_plan=self.tp_plan,
        )
        key = (checkpoint, new, dp if fsdp else 1)
        step = self.replays.get(key) or replay_repeated(request, replay_step)
        self.replays[key] = step  # ddp/zero: one replay serves every GPU count
        if step.no_grad_params:
            self.frozen = True
        return per_device(step, self.layout.shard, dp, train and not step.no_grad_params)


def tp_plan_of(model: nn.Module, from_file: Callable[[nn.Module], Any] | None) -> dict[str, str]:
    """``{path glob: style}``: the file's ``tp_plan(model)``, else transformers' own plan
    (``config.base_model_tp_plan``, relative to the base model)."""
    if from_file is not None:
        return dict(from_file(model))
    config = getattr(model, "config", None)
    plan = getattr(config, "base_model_tp_plan", None) or {}
    prefix = getattr(model, "base_model_prefix", "")
    prefix = f"{prefix}." if prefix and hasattr(model, prefix) else ""
    return {f"{prefix}{pattern}": style for pattern, style in plan.items()}


def _named_optimizer(name: str) -> Callable[[nn.Module], torch.optim.Optimizer]:
    from netscope.engine.compute.optimizer import make_optimizer

    def build(model: nn.Module) -> torch.optim.Optimizer:
        params = [p for p in model.parameters() if p.requires_grad]
        return make_optimizer(name, params, True)  # foreach: torch's default on CUDA

    return build


def layout_for(loaded: LoadedTarget) -> Layout:
    o = loaded.options
    return layout_of(o.fit, o.shard, o.tp, o.precision, o.dtype, o.checkpoint, o.shard_units)


def plan_verdict(
    loaded: LoadedTarget,
    call: ExampleInput | None,
    blocks: Mapping[str, tuple[int | None, int | None]] | None = None,
) -> FitVerdict | None:
    """The planned fit; ``blocks``: each block's (forward FLOPs, saved bytes) of the snapshot,
    for the recomputed FLOPs and ``--checkpoint auto``'s choice."""
    options = loaded.options
    if (options.fit is None and options.memory_budget is None) or loaded.model is None:
        return None
    if call is None:
        return None
    layout = layout_for(loaded)
    label, usable, context = _capacity(options.fit, options.memory_budget)
    model = meta_copy(loaded)
    if options.precision is None and options.dtype is None:  # as the model's weights are
        floating = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
        kept = DTYPE_PRECISION.get(str(floating).removeprefix("torch."), "fp32")
        layout = replace(layout, precision=kept)
    fsdp = layout.shard == "fsdp"
    units = tuple(shard_units(model, layout.shard_units, loaded.shard_units_fn)) if fsdp else ()
    planner = Planner(loaded, model, call, layout, units, batch_size(call))
    notes: list[str] = []
    if layout.tp > 1:
        planner.tp_plan = tp_plan_of(model, loaded.tp_plan_fn)
        if not planner.tp_plan:
            notes.append(
                f"--tp {layout.tp}: no tensor-parallel plan (a model file's tp_plan(model) or "
                "the config's base_model_tp_plan): every block counted as replicated"
            )
    chosen = tuple(checkpointed(model, layout.checkpoint, list(units)))
    if layout.checkpoint == "all" and not chosen:
        notes.append(
            "--checkpoint all: no FSDP unit or repeated block to checkpoint, nothing is "
            "(name blocks with --checkpoint PATTERN)"
        )
    if layout.checkpoint == "auto":
        chosen, note = auto_checkpoint(planner, layout.devices, usable, blocks or {}, units)
        notes.append(note)
    try:
        share = planner.estimate(layout.devices, chosen)
    except NetscopeError:
        raise
    except Exception as exc:  # code that reads values (fake tensors hold none), an unknown op
        raise NetscopeError(
            f"--fit: the step could not be replayed as planned ({type(exc).__name__}: "
            f"{str(exc)[:200]})",
            path=loaded.path,
            hint=replay_failure_hint(exc),
        ) from exc
    if planner.frozen:
        notes.append("every weight is frozen: the step trains nothing (forward only)")
    recompute = None
    if blocks is not None:
        recompute = sum((blocks.get(path, (0, 0))[0] or 0) for path in chosen)
    least = _min_devices(planner, layout, chosen, usable, share)
    max_batch, batch_note = _max_batch(planner, layout, chosen, usable, share)
    notes += [batch_note] if batch_note else []
    if options.fit and context == 0:
        notes.append(size_note(label))
    step = f"train ({options.optimizer if loaded.optimizer_fn is None else 'optimizer()'})"
    return FitVerdict(
        device=label,
        capacity_bytes=usable,
        needed_bytes=share.peak_bytes,
        fits=share.peak_bytes <= usable,
        margin_bytes=usable - share.peak_bytes,
        max_batch=max_batch,
        step=step if options.train else "inference",
        context_bytes=context,
        batch=planner.batch,
        note="; ".join(n for n in notes if n),
        devices=layout.devices,
        shard=layout.shard,
        precision=layout.precision,
        tp=layout.tp,
        units=units,
        checkpoint=chosen,
        recompute_flops=recompute,
        per_device=share,
        min_devices=least,
        # code to paste only for a choice that fits (--checkpoint auto that cannot: none)
        checkpoint_code=checkpoint_code(chosen) if chosen and share.peak_bytes <= usable else "",
    )


def _capacity(fit: str | None, budget: int | None) -> tuple[str, int, int]:
    """(label, usable bytes, context allowance) of each of --fit's GPUs, or --memory-budget."""
    return usable_capacity(None if fit is None else split_devices(fit)[1], fit, budget)


def _min_devices(
    planner: Planner, layout: Layout, chosen: tuple[str, ...], usable: int, share: PerDevice
) -> int | None:
    """The fewest GPUs (a multiple of --tp) whose share fits. The first guess takes the sharded
    state (parameters, gradients, optimizer) as 1/N and the rest as fixed; the answer is then
    found by replaying candidates around it (n fits, n - 1 does not), never extrapolated."""
    if layout.shard in ("none", "ddp"):
        return layout.tp if share.peak_bytes <= usable else None  # the share does not shrink
    dp, most = layout.data_parallel, MAX_DEVICES // layout.tp
    fits: dict[int, bool] = {dp: share.peak_bytes <= usable}

    def fit(n: int) -> bool:
        if n not in fits:
            fits[n] = planner.estimate(n * layout.tp, chosen).peak_bytes <= usable
        return fits[n]

    state = share.params_bytes + (share.grads_bytes or 0) + (share.optimizer_bytes or 0)
    rest = share.peak_bytes - state
    if usable <= rest:
        return None  # what does not shrink with N (activations, gathered units) is too much
    guess = min(max(-(-state * dp // (usable - rest)), 1), most)
    if fit(guess):
        low, high = guess - 1, guess
        step = 1
        while low >= 1 and fit(low):
            high, step = low, step * 2
            low = max(high - step, 0)
    else:
        if guess == most:
            return None
        low, high, step = guess, guess + 1, 1
        while not fit(high):
            if high == most:
                return None
            low, step = high, step * 2
            high = min(high + step, most)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fit(mid) else (mid, high)
    return high * layout.tp


def _max_batch(
    planner: Planner, layout: Layout, chosen: tuple[str, ...], usable: int, share: PerDevice
) -> tuple[int | None, str]:
    """The largest micro-batch per GPU that fits (the one-GPU search of compute/fit.py)."""

    def at(new_batch: int) -> int:
        return planner.estimate(layout.devices, chosen, new_batch).peak_bytes

    return largest_batch(planner.batch, share.peak_bytes, at, usable)


# torch's fake tensors raise these where the step reads a value or makes a value-sized tensor
_READS_VALUES = ("DataDependentOutputException", "DynamicOutputShapeException")


def replay_failure_hint(exc: BaseException) -> str:
    """Why the fake-tensor replay failed, in the user's terms: reading values, or an op whose
    meta function refuses what a real device runs (not the user's code)."""
    if type(exc).__name__ in _READS_VALUES:
        return (
            "the plan runs the step on fake tensors, which hold no values: .item(), `if tensor:` "
            "and value-sized results (nonzero, masked_select) cannot run there"
        )
    return (
        "the plan runs the step on fake tensors, whose shapes come from torch's meta functions: "
        "an op without one, or one stricter than the real kernel, stops it (the error names it)"
    )
