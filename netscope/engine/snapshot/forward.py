"""One example forward (and backward) under hooks: calls, outputs, activations, gradients.

The caller (``build.snapshot_model``, through engine/api.py) owns restoring the model; this
module only records.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.overrides import TorchFunctionMode

import netscope
from netscope.engine.compute.loss import loss_source, step_loss
from netscope.engine.errors import (
    NetscopeError,
    display_path,
    traceback_tail,
    user_location,
    wrap_user_error,
)
from netscope.engine.load.example import batch_of
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import Finding, OutputInfo
from netscope.engine.modes import set_training, training_flags_kept
from netscope.engine.nested import labelled_tensors
from netscope.engine.snapshot.classes import is_builtin
from netscope.engine.snapshot.special import packed_objects
from netscope.engine.snapshot.values import activation_row, dtype_name

MAX_OUTPUTS = 32
MAX_DEPTH = 4  # containers deep, in a block's output
MAX_ITERATOR_ITEMS = 10_000  # a forward returning a generator: items consumed at most
# Tensor methods that read metadata only: a parent asking `self.fc.weight.dtype` does not use fc.
_METADATA_OPS = frozenset({
    "__get__", "size", "dim", "numel", "nelement", "ndimension", "stride", "element_size",
    "is_floating_point", "is_complex", "data_ptr", "get_device", "is_contiguous", "type",
    "storage_offset", "untyped_storage", "__len__", "__format__", "__repr__",
})  # fmt: skip


@dataclass
class ForwardRecord:
    """What the hooks saw, keyed by ``id(module)``."""

    calls: dict[int, int] = field(default_factory=dict)
    outputs: dict[int, tuple[OutputInfo, ...]] = field(default_factory=dict)
    activations: dict[int, Any] = field(default_factory=dict)  # a row, SmallActivation or None
    output: Any = None
    backward_ran: bool = False
    loss_source: str = ""
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    active: list[nn.Module] = field(default_factory=list)  # blocks whose forward is running
    paths: dict[int, str] = field(default_factory=dict)  # id(module) -> first qualified path
    # id(module) -> path of the block whose forward used its weights without calling it
    used_by: dict[int, str] = field(default_factory=dict)
    call: ExampleInput | None = None  # the arguments the model was called with
    quiet: set[int] = field(default_factory=set)  # id(module): WeightUse steps aside inside
    modules: list[nn.Module] = field(default_factory=list)  # the model's, once each (the hooks')
    weight_use: WeightUse | None = None  # the mode, while the forward runs under it
    counter: Any = None  # compute.counter.StepCounter: told when each block starts and ends


def tensor_leaves(value: Any) -> list[tuple[str, torch.Tensor]]:
    """Tensors in a nested output with labels such as ``0``, ``logits`` or ``1.hidden``."""
    return labelled_tensors(value, max_depth=MAX_DEPTH, limit=MAX_OUTPUTS)


class StepMode:
    """The mode the example step runs in: eval, or with ``--train`` train mode as a loop runs it
    (dropout draws and saves its masks, norms use the batch's statistics). What train mode
    changes is put back by ``restore``: buffers it updated in place (a norm's running
    statistics) and the random generators dropout drew from. The caller restores each module's
    own training flag."""

    def __init__(
        self, model: nn.Module, train: bool, modules: list[nn.Module] | None = None
    ) -> None:
        """``modules``: ``model.modules()``, if the caller has walked them."""
        self.train = train
        self.buffers: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.rng: torch.Tensor | None = None
        self.cuda_rng: list[torch.Tensor] | None = None
        if not train:
            set_training(model, False, modules)  # model.eval()
            return
        kept = (b for b in model.buffers() if not b.is_meta)
        self.buffers = [(b, b.detach().to("cpu", copy=True)) for b in kept]
        self.rng = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            self.cuda_rng = torch.cuda.get_rng_state_all()
        set_training(model, True, modules)  # model.train()

    def restore(self) -> None:
        with torch.no_grad():  # after the backward: no saved tensor sees the copy
            for buffer, saved in self.buffers:
                buffer.copy_(saved)  # a norm's kernel updates its statistics in place
        self.buffers = []
        if self.rng is not None:
            torch.set_rng_state(self.rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        self.rng = self.cuda_rng = None


class InstrumentationFailure(Exception):
    """Raised from inside netscope's own hooks or modes: a netscope problem, not the user's."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def blames_netscope(exc: BaseException) -> str:
    """What part of netscope's instrumentation raised ``exc``, or "" when it is not netscope's.

    Either a hook or mode raised (``InstrumentationFailure``), or dynamo failed while tracing
    through netscope's code: its message then quotes netscope's files ("from user code: ...").
    """
    if isinstance(exc, InstrumentationFailure):
        return exc.part
    package = os.path.dirname(os.path.abspath(netscope.__file__)) + os.sep
    text = str(exc)
    traced = type(exc).__module__.startswith(("torch._dynamo", "torch._inductor"))
    if (traced or "from user code" in text) and package in text:
        return "its hooks, which torch.compile (dynamo) failed to trace"
    return ""


def instrumentation_error(
    exc: BaseException, what: str, part: str, path: str | None
) -> NetscopeError:
    """netscope's own instrumentation failed: say so, and do not point at the user's line."""
    cause = exc.__cause__ if isinstance(exc, InstrumentationFailure) and exc.__cause__ else exc
    first = (str(cause).strip().splitlines() or [""])[0][:300]
    return NetscopeError(
        f"netscope's instrumentation ({part}) failed during {what}; this is not an error in "
        f"your model's code: {type(cause).__name__}: {first}",
        path=path,
        hint=(
            "This is a netscope problem. Rerun with --debug for netscope's traceback and "
            "report it; the model itself may well run fine without netscope's hooks."
        ),
        traceback_tail=traceback_tail(cause),
    )


def install_hooks(
    model: nn.Module,
    record: ForwardRecord,
    stats: bool,
    named: list[tuple[str, nn.Module]] | None = None,
) -> list[Any]:
    """Forward hooks that record the model's blocks; the caller removes the returned handles.

    Two global hooks, not two per module: registering and removing 40,000 handles took 0.3 s on
    20,000 blocks, and torch runs the same hook path either way. A module outside the model (one
    a ``step()`` calls) is passed over. The hooks' own torch calls run with torch function
    handling off: netscope's statistics are not the user's ops, and ``WeightUse`` would otherwise
    see (and pay for) each of them. ``named``: ``model.named_modules()``, if the caller has
    walked them (20,000 blocks: each walk ~10 ms).
    """
    calls = record.calls
    active = record.active
    quiet = record.quiet
    no_torch_function = torch._C.DisableTorchFunction
    output_infos: dict[tuple[str, tuple[int, ...], torch.dtype], OutputInfo] = {}

    def enter(module: nn.Module, inputs: Any) -> None:
        key = id(module)
        if key in calls:
            active.append(module)
            if key in quiet and record.weight_use is not None:
                record.weight_use.step_aside(module)  # first: the counter's modes are below it
            if record.counter is not None:
                record.counter.mark(active)
                if key in quiet:
                    record.counter.leaf_enter(module, inputs)

    def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
        key = id(module)
        count = calls.get(key)
        if count is None:
            return
        calls[key] = count + 1
        if not count:  # the first call's outputs; a fast Linear's counter is still off the stack
            try:  # (no pop and push of it for netscope's own ops: 20,000 blocks, ~30 ms)
                with no_torch_function(), pause(record):
                    _record_output(key, output)
            except Exception as exc:  # netscope's own failure: never blamed on the user's forward
                raise InstrumentationFailure("its forward hook recording outputs") from exc
        if record.counter is not None and key in quiet:
            record.counter.leaf_exit(module, output)
        if active and active[-1] is module:
            active.pop()
            if record.counter is not None:
                record.counter.mark(active)
        if key in quiet and record.weight_use is not None:
            record.weight_use.step_back(module)

    def output_info(label: str, tensor: torch.Tensor) -> OutputInfo:
        """One OutputInfo per (label, shape, dtype): 20,000 equal blocks share a handful."""
        shape = tuple(tensor.shape)
        found = output_infos.get((label, shape, tensor.dtype))
        if found is None:
            found = OutputInfo(label, shape, dtype_name(tensor.dtype))
            output_infos[(label, shape, tensor.dtype)] = found
        return found

    def _record_output(key: int, output: Any) -> None:
        if type(output) is torch.Tensor:  # most blocks: no walk of a nested output
            record.outputs[key] = (output_info("", output),)
            floating = output if output.is_floating_point() else None
        else:
            leaves = tensor_leaves(output)
            record.outputs[key] = tuple(output_info(label, t) for label, t in leaves)
            floating = next((t for _, t in leaves if t.is_floating_point()), None)
        record.activations[key] = (
            activation_row(floating) if stats and floating is not None else None
        )

    if named is None:
        named = list(model.named_modules())
    for path, module in named:
        calls[id(module)] = 0
        record.paths[id(module)] = path
    record.modules = [module for _, module in named]
    return [register_module_forward_pre_hook(enter), register_module_forward_hook(hook)]


def pause(record: ForwardRecord) -> Any:
    """netscope's own statistics are not the step's FLOPs or allocations."""
    return record.counter.pause() if record.counter is not None else contextlib.nullcontext()


_FLOAT_BUILTINS = "torch.nn.modules."  # torch.nn's float blocks: parameters and buffers only


class WeightUse(TorchFunctionMode):
    """Sees every torch function's operands: a block's parameter, buffer or packed weights used
    by another block's forward (``F.multi_head_attention_forward(..., self.out_proj.weight)``,
    ``quantized.linear_dynamic(x, self._packed_params._packed_params)``) without a call.

    A built-in block with no children whose tensors no other block holds (Linear, Conv2d,
    LayerNorm...) can use no other block's weights, and most of a model's ops run inside such
    blocks: the mode steps off torch's mode stack for their forward (``install_hooks`` calls
    ``step_aside`` and ``step_back``), so those ops pay nothing for it (20,000 Linear blocks:
    the mode cost 0.4-0.6 s of forward when on throughout, ~0.1 s stepping aside).
    """

    def __init__(self, model: nn.Module, record: ForwardRecord) -> None:
        super().__init__()
        self.record = record
        self.owners: dict[int, list[nn.Module]] = {}
        self.aside: list[nn.Module] = []  # blocks whose forward runs with the mode off
        owners = self.owners
        leaves: list[tuple[nn.Module, list[Any]]] = []
        for module in record.modules or model.modules():
            held = [
                v
                for v in (*module._parameters.values(), *module._buffers.values())
                if v is not None
            ]
            cls = type(module)
            if not cls.__module__.startswith(_FLOAT_BUILTINS):  # no packed objects there
                held += packed_objects(module)
            for value in held:
                owners.setdefault(id(value), []).append(module)
            if not module._modules and is_builtin(cls):
                leaves.append((module, held))
        record.quiet.clear()
        for module, held in leaves:
            if all(len(owners[id(value)]) == 1 for value in held):
                record.quiet.add(id(module))

    def __enter__(self) -> WeightUse:
        self.record.weight_use = self
        return super().__enter__()  # type: ignore[return-value]

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        """A forward that raised inside a quiet block left the mode off the stack: put it back
        so that leaving pops this mode and nothing else."""
        self.record.weight_use = None
        if self.aside:
            self.aside.clear()
            torch._C._push_on_torch_function_stack(self)
        super().__exit__(exc_type, exc_val, exc_tb)

    def step_aside(self, module: nn.Module) -> None:
        """Off the stack for ``module``'s forward, when this mode is on top (a mode the user
        pushed inside their forward stays, and so does this one under it)."""
        depth = torch._C._len_torch_function_stack()
        if depth and torch._C._get_function_stack_at(depth - 1) is self:
            torch._C._pop_torch_function_stack()
            self.aside.append(module)

    def step_back(self, module: nn.Module) -> None:
        if self.aside and self.aside[-1] is module:
            self.aside.pop()
            torch._C._push_on_torch_function_stack(self)

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") not in _METADATA_OPS:
            owners = self.owners
            try:
                for value in (*args, *kwargs.values()):
                    if isinstance(value, (list, tuple)):
                        for item in value:
                            if id(item) in owners:
                                self._see(item)
                    elif id(value) in owners:
                        self._see(value)
            except Exception as exc:  # netscope's own failure, not the function's
                raise InstrumentationFailure("its torch function mode tracking weights") from exc
        return func(*args, **kwargs)

    def _see(self, value: Any) -> None:
        owners = self.owners.get(id(value))
        if not owners:
            return
        active = self.record.active[-1] if self.record.active else None
        user = "" if active is None else self.record.paths.get(id(active), "")
        for owner in owners:
            if owner is not active:
                self.record.used_by.setdefault(id(owner), user)


def failing_block(record: ForwardRecord) -> str:
    """`` in block `layers.3.attn` (Attention)``: the innermost block running when it failed."""
    if not record.active:
        return ""
    module = record.active[-1]
    path = record.paths.get(id(module), "?")
    return f" in block `{path or '(root)'}` ({type(module).__name__})"


def _devices(values: Any) -> set[str]:
    return {str(t.device) for _, t in tensor_leaves(values)}


class _ModelCalled(BaseException):
    """Stops ``step(model, batch)`` at its model call (BaseException: user ``except`` skips it)."""


def call_in_step(loaded: LoadedTarget, record: ForwardRecord) -> ExampleInput | None:
    """How ``step(model, batch)`` calls the model: its arguments, caught before the forward runs.

    Nothing of the model runs: a pre-hook records the arguments of the first call and stops the
    step there, so an optimizer step after it never happens. None when the step never calls the
    model itself (it may call a method such as ``generate``) or raises before it.
    """
    assert loaded.model is not None and loaded.example_input is not None and loaded.step_fn
    captured: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def stop(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        captured.append((args, dict(kwargs)))
        raise _ModelCalled

    handle = loaded.model.register_forward_pre_hook(stop, prepend=True, with_kwargs=True)
    with training_flags_kept(loaded.model):  # a step may call model.train()
        try:
            loaded.step_fn(loaded.model, batch_of(loaded.example_input))
        except _ModelCalled:
            pass
        except (Exception, SystemExit) as exc:
            error = wrap_user_error(exc, "step(model, batch) raised before calling the model")
            where = f" at {error.location}" if error.location else ""
            record.notes.append(
                f"step(model, batch) raised before calling the model{where} "
                f"({type(exc).__name__}): the example forward uses example_input() as arguments"
            )
        finally:
            handle.remove()
    if not captured:
        return None
    args, kwargs = captured[0]
    return ExampleInput(args=args, kwargs=kwargs, origin="step(model, batch)")


_LIST_ANNOTATION = re.compile(r"^(list|List|Sequence|MutableSequence|Iterable)\b")


def _annotation_text(annotation: Any) -> str:
    """``list[Tensor]``, ``List[Tensor]``, ``Sequence[Tensor]``: the annotation as written."""
    if isinstance(annotation, str):  # from __future__ import annotations
        text = annotation
    elif getattr(annotation, "__args__", None):
        text = str(annotation)
    else:
        text = getattr(annotation, "__name__", str(annotation))
    return text.replace("typing.", "").replace("collections.abc.", "")


def _list_parameter(model: nn.Module) -> tuple[str, str, inspect.Signature | None]:
    """(first positional parameter, its annotation when list-like, signature) of forward."""
    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return "", "", None
    for param in signature.parameters.values():
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            if param.annotation is param.empty:
                return param.name, "", signature
            text = _annotation_text(param.annotation)
            return param.name, text if _LIST_ANNOTATION.match(text) else "", signature
    return "", "", signature


def _spread_list_error(loaded: LoadedTarget, example: ExampleInput) -> NetscopeError | None:
    """example_input() returned a list that forward wants whole: say how to pass it."""
    assert loaded.model is not None
    if not example.from_list:
        return None
    name, annotation, signature = _list_parameter(loaded.model)
    if signature is None:
        return None
    reason = ""
    try:
        signature.bind(*example.args, **example.kwargs)
    except TypeError as exc:
        reason = f"that call does not fit forward{signature} ({exc})"
    if not reason and annotation and example.args and isinstance(example.args[0], torch.Tensor):
        reason = f"but forward{signature} takes a list as `{name}: {annotation}`"
    if not reason:
        return None
    return NetscopeError(
        _spread_message(loaded, example) + f", {reason}",
        path=loaded.path,
        location=example.location,
        hint=_LIST_HINT,
    )


_LIST_HINT = (
    "to pass the list itself as one argument (detection models: model([img1, img2])), return it "
    "inside a tuple: `return ([img1, img2],)`; a tuple's items are the positional arguments, a "
    "dict's items the keyword arguments"
)


def _spread_message(loaded: LoadedTarget, example: ExampleInput) -> str:
    n = len(example.args)
    return (
        f"example_input() in {display_path(loaded.path)} returned a list of {n} item(s), which "
        f"netscope passes as {n} positional argument(s): model({_placeholders(n)})"
    )


def _placeholders(n: int) -> str:
    return ", ".join(f"x{i}" for i in range(n)) if n <= 3 else f"x0, x1, ..., x{n - 1}"


def run_forward(loaded: LoadedTarget, record: ForwardRecord, with_grad: bool) -> str | None:
    """Call the model on the example input; a failure names the user's line (or both devices).

    With ``step(model, batch)`` in the file, the model gets the arguments the step gives it
    (example_input() is then the step's batch, not the model's arguments). Returns a note when
    the forward cannot run (a dict batch the step never hands to the model), else None.
    """
    assert loaded.model is not None and loaded.example_input is not None
    example = loaded.example_input
    shown = display_path(loaded.path)
    call = call_in_step(loaded, record) if loaded.step_fn is not None else None
    record.active.clear()  # the step stopped at its model call, inside netscope's pre-hook
    if call is None and loaded.step_fn is not None and example.kwargs:
        return (
            f"step(model, batch) in {shown} takes example_input()'s dict as its batch but never "
            "calls the model itself, so netscope does not know the model's arguments and runs "
            "no example forward (a dict batch is not spread into model(**batch)). Call the model "
            "in step(), or return the model's arguments from example_input() without a step()."
        )
    if call is None:
        error = _spread_list_error(loaded, example)
        if error is not None:
            raise error
        call = example
    record.call = call
    try:
        with torch.set_grad_enabled(with_grad), WeightUse(loaded.model, record):
            output = call.call(loaded.model)
            if isinstance(output, Iterator):
                output = _consume(output, loaded, record)
            record.output = output
    except (Exception, SystemExit) as exc:  # user code may call sys.exit()
        where = failing_block(record)
        record.active.clear()
        part = blames_netscope(exc)
        if part:
            what = f"the example forward of {shown}{where}"
            raise instrumentation_error(exc, what, part, loaded.path) from exc
        device_error = _device_error(loaded, exc, where)
        if device_error is not None:
            raise device_error from exc
        error = wrap_user_error(exc, f"the example forward of {shown} raised{where}", loaded.path)
        if call.from_list:
            error.hint = f"{_spread_message(loaded, call)}; {_LIST_HINT}"
        raise error from exc
    return None


def _consume(output: Iterator[Any], loaded: LoadedTarget, record: ForwardRecord) -> list[Any]:
    """A forward returning a generator runs nothing until consumed: consume it, and say so."""
    kind = type(output).__name__
    items = list(itertools.islice(output, MAX_ITERATOR_ITEMS + 1))
    more = len(items) > MAX_ITERATOR_ITEMS
    items = items[:MAX_ITERATOR_ITEMS]
    count = f"the first {MAX_ITERATOR_ITEMS}" if more else f"{len(items)}"
    message = (
        f"the forward of {display_path(loaded.path)} returns a {kind}, not tensors: none of its "
        "work runs until the result is iterated (a bare `model(x)`, or a timing of it, runs no "
        f"layer). netscope consumed {count} item(s) to see the calls; return a list or a tuple "
        "to run the work inside forward"
    )
    forward = getattr(type(loaded.model), "forward", None)
    code = getattr(forward, "__code__", None)
    where = f"{display_path(code.co_filename)}:{code.co_firstlineno}" if code else loaded.source
    record.findings.append(Finding("warning", "forward-returns-iterator", message, location=where))
    record.notes.append(f"forward returned a {kind}: consumed {count} item(s)")
    return items


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
    """Backward of the step's loss (``compute.loss.step_loss``)."""
    assert loaded.example_input is not None
    record.loss_source = loss_source(loaded.loss_fn)
    try:
        loss = step_loss(record.output, batch_of(loaded.example_input), loaded.loss_fn)
        if loss is None or (isinstance(loss, torch.Tensor) and not loss.requires_grad):
            record.notes.append("no floating output needs a gradient: backward skipped")
            return
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            record.notes.append(f"{record.loss_source} is not a scalar: no backward")
            return
        loss.backward()
        record.backward_ran = True
    except (Exception, SystemExit) as exc:
        error = wrap_user_error(exc, f"backward of {record.loss_source} failed", loaded.path)
        record.notes.append(error.message)
        record.findings.append(
            Finding("error", "backward-failed", error.message, location=error.location)
        )
