"""One example forward (and backward) under hooks: calls, outputs, activations, gradients.

The caller (``build.snapshot_model``) owns restoring the model; this module only records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError, display_path, user_location, wrap_user_error
from netscope.engine.load.example import batch_of
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import Finding, OutputInfo
from netscope.engine.snapshot.values import activation_row, dtype_name

MAX_OUTPUTS = 32


@dataclass
class ForwardRecord:
    """What the hooks saw, keyed by ``id(module)``."""

    calls: dict[int, int] = field(default_factory=dict)
    outputs: dict[int, tuple[OutputInfo, ...]] = field(default_factory=dict)
    activations: dict[int, torch.Tensor | None] = field(default_factory=dict)
    output: Any = None
    backward_ran: bool = False
    loss_source: str = ""
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    active: list[nn.Module] = field(default_factory=list)  # blocks whose forward is running
    paths: dict[int, str] = field(default_factory=dict)  # id(module) -> first qualified path


def tensor_leaves(value: Any, label: str = "", depth: int = 0) -> list[tuple[str, torch.Tensor]]:
    """Tensors in a nested output with labels such as ``0``, ``logits`` or ``1.hidden``."""
    if isinstance(value, torch.Tensor):
        return [(label, value)]
    if depth >= 4:
        return []
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = list(enumerate(value))
    else:
        return []
    leaves: list[tuple[str, torch.Tensor]] = []
    for key, item in items[:MAX_OUTPUTS]:
        leaves += tensor_leaves(item, f"{label}.{key}" if label else str(key), depth + 1)
    return leaves[:MAX_OUTPUTS]


def install_hooks(model: nn.Module, record: ForwardRecord, stats: bool) -> list[Any]:
    """Forward hooks on every distinct module; the caller removes the returned handles."""

    def enter(module: nn.Module, _inputs: Any) -> None:
        record.active.append(module)

    def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
        if record.active and record.active[-1] is module:
            record.active.pop()
        key = id(module)
        count = record.calls.get(key, 0)
        record.calls[key] = count + 1
        if count == 0:
            leaves = tensor_leaves(output)
            record.outputs[key] = tuple(
                OutputInfo(label, tuple(t.shape), dtype_name(t.dtype)) for label, t in leaves
            )
            floating = next((t for _, t in leaves if t.is_floating_point()), None)
            record.activations[key] = (
                activation_row(floating) if stats and floating is not None else None
            )

    handles = []
    for path, module in model.named_modules():
        record.calls[id(module)] = 0
        record.paths[id(module)] = path
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(hook))
    return handles


def failing_block(record: ForwardRecord) -> str:
    """`` in block `layers.3.attn` (Attention)``: the innermost block running when it failed."""
    if not record.active:
        return ""
    module = record.active[-1]
    path = record.paths.get(id(module), "?")
    return f" in block `{path or '(root)'}` ({type(module).__name__})"


def _devices(values: Any) -> set[str]:
    return {str(t.device) for _, t in tensor_leaves(values)}


def run_forward(loaded: LoadedTarget, record: ForwardRecord, with_grad: bool) -> None:
    """Call the model on the example input; a failure names the user's line (or both devices)."""
    assert loaded.model is not None and loaded.example_input is not None
    example = loaded.example_input
    shown = display_path(loaded.path)
    record.active.clear()
    try:
        with torch.set_grad_enabled(with_grad):
            record.output = example.call(loaded.model)
    except (Exception, SystemExit) as exc:  # user code may call sys.exit()
        where = failing_block(record)
        record.active.clear()
        device_error = _device_error(loaded, exc, where)
        if device_error is not None:
            raise device_error from exc
        raise wrap_user_error(
            exc, f"the example forward of {shown} raised{where}", loaded.path
        ) from exc


def _device_error(loaded: LoadedTarget, exc: BaseException, where: str) -> NetscopeError | None:
    """A device clash named plainly: weights split over devices, or input vs weights."""
    assert loaded.model is not None and loaded.example_input is not None
    if "device" not in str(exc):
        return None
    example = loaded.example_input
    inputs = _devices([*example.args, *example.kwargs.values()])
    placed: dict[str, str] = {}
    for name, tensor in [*loaded.model.named_parameters(), *loaded.model.named_buffers()]:
        placed.setdefault(str(tensor.device), name)
    shown = display_path(loaded.path)
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if len(placed) > 1:
        spread = ", ".join(f"{dev} (e.g. {name})" for dev, name in sorted(placed.items()))
        message = (
            f"the model's weights are spread over several devices: {spread}; the forward of "
            f"{shown} failed{where} ({detail})"
        )
        hint = "move the whole model to one device (model.to(...)), or pass --device meta"
    elif inputs and placed and inputs != set(placed):
        message = (
            f"the example input is on {', '.join(sorted(inputs))} but the model's weights are "
            f"on {', '.join(placed)}: the forward of {shown} failed{where} ({detail})"
        )
        hint = (
            "put the model and its input on one device (netscope moves the input to "
            "--device; keep the model there too)"
        )
    else:
        return None
    return NetscopeError(
        message, path=loaded.path, location=user_location(exc.__traceback__), hint=hint
    )


def run_backward(loaded: LoadedTarget, record: ForwardRecord) -> None:
    """Backward of ``loss(output, batch)``, else of the mean of the floating outputs."""
    assert loaded.example_input is not None
    try:
        if loaded.loss_fn is not None:
            record.loss_source = "loss(output, batch)"
            loss = loaded.loss_fn(record.output, batch_of(loaded.example_input))
        else:
            record.loss_source = "mean of floating outputs"
            parts = [
                t.float().mean()
                for _, t in tensor_leaves(record.output)
                if t.is_floating_point() and t.requires_grad
            ]
            if not parts:
                record.notes.append("no floating output needs a gradient: backward skipped")
                return
            loss = torch.stack(parts).sum()
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or not loss.requires_grad:
            record.notes.append(
                f"{record.loss_source} is not a scalar with a gradient: no backward"
            )
            return
        loss.backward()
        record.backward_ran = True
    except (Exception, SystemExit) as exc:
        error = wrap_user_error(exc, f"backward of {record.loss_source} failed", loaded.path)
        record.notes.append(error.message)
        record.findings.append(
            Finding("error", "backward-failed", error.message, location=error.location)
        )
