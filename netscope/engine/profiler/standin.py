"""A stand-in accelerator: CPU data that claims to live on a GPU, so a step runs as on CUDA.

Without a GPU, the question the sync detector must answer is "would this wait for the device on
CUDA?", and the CPU kernels are the wrong witness: they read values CUDA kernels never read
(``one_hot``'s range check), and every tensor is a host tensor. Here the model's parameters and
buffers and the batch become ``DeviceTensor``s: wrapper tensors whose device is ``gpu:0`` (torch's
PrivateUse1 backend, renamed, with the Python device guard torch ships for such backends) and whose
data is a plain CPU tensor. Everything computed from them is a device tensor too; a tensor created
without a device, an optimizer's step counter or a ``.cpu()`` result stays on the host. A
``.item()`` on a device tensor is a sync, on a host tensor it is not; ``x.to(y.device)`` is a no-op;
``torch.arange(n).to(device)`` is a host-to-device copy; composite kernels take their non-CPU path.

Two modes make it work: ``_HostFunctions`` rewrites ``device=`` arguments and device moves at the
Python level (torch would otherwise try to initialise a real device), ``_HostDispatch`` runs every
aten op on the CPU data and wraps the results back. Both leave nothing behind on exit; the
parameters swapped in by ``placed_on_standin`` are put back in ``finally``.

What this cannot see: code that branches on ``device.type == "cuda"`` takes its non-CUDA branch,
and ``torch.cuda`` calls still answer for this machine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode, handle_torch_function, has_torch_function_unary
from torch.utils._python_dispatch import TorchDispatchMode, return_and_correct_aliasing
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from netscope.engine.dynamo_frames import never_compiled
from netscope.engine.errors import NetscopeError
from netscope.engine.nested import map_tensors
from netscope.engine.profiler.rnn_cells import GPU_ONLY_CELLS

BACKEND = "gpu"  # what the stand-in device is called: tensors report device "gpu:0"
_HOST = torch.device("cpu")
_ACCELERATOR_TYPES = frozenset({"cuda", BACKEND})
_to_copy = torch.ops.aten._to_copy.default
_CONSTRUCTORS = frozenset({"new_tensor", "new_empty", "new_zeros", "new_ones", "new_full"})


_active = [0]  # emulations running: outside them the stand-in says it is not available


class _Availability(torch._C._acc.PrivateUse1Hooks):
    """torch asks this whether the backend is usable: only while an emulation runs, so code
    outside it (``torch.accelerator.is_available()``, benchmark timers) sees this machine."""

    def is_available(self) -> bool:
        return _active[0] > 0

    def has_primary_context(self, device_index: int) -> bool:
        return _active[0] > 0

    def is_built(self) -> bool:
        return True


class _BackendModule:
    """``torch.gpu``: the device module torch looks up for the stand-in backend."""

    def is_available(self) -> bool:
        return _active[0] > 0

    def is_initialized(self) -> bool:
        return True

    def current_device(self) -> int:
        return 0

    def device_count(self) -> int:
        return 1 if _active[0] > 0 else 0

    def _is_in_bad_fork(self) -> bool:
        return False

    def manual_seed_all(self, seed: int) -> None:
        """Nothing to seed: the stand-in's data comes from the CPU generator torch seeds."""


def ensure_backend() -> torch.device:
    """Register the stand-in backend once per process; return its device."""
    name = torch._C._get_privateuse1_backend_name()
    if name == BACKEND:
        return torch.device(BACKEND, 0)
    if name != "privateuseone":
        raise NetscopeError(
            f"cannot emulate a GPU: torch's extension backend is already taken by {name!r}",
            hint="Profile on a machine with a GPU, where no emulation is needed.",
        )
    from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

    _setup_privateuseone_for_python_backend(
        BACKEND, backend_module=_BackendModule(), hook=_Availability()
    )
    return torch.device(BACKEND, 0)


def is_standin(device: Any) -> bool:
    """Is ``device`` the stand-in GPU (``gpu:0``)?"""
    return isinstance(device, torch.device) and device.type == BACKEND


def is_accelerator(device: Any) -> bool:
    """Is ``device`` (a torch.device, a string like ``"cuda:0"``, or None) a GPU device?"""
    if isinstance(device, torch.device):
        return device.type in _ACCELERATOR_TYPES
    if isinstance(device, str):
        return device.split(":", 1)[0] in _ACCELERATOR_TYPES
    return False


class DeviceTensor(torch.Tensor):
    """A tensor that says it lives on the stand-in GPU; ``host`` holds its CPU data."""

    host: torch.Tensor
    __torch_function__ = torch._C._disabled_torch_function_impl  # type: ignore[assignment]

    @staticmethod
    def __new__(cls, host: torch.Tensor, requires_grad: bool = False) -> DeviceTensor:
        wrapper = torch.Tensor._make_wrapper_subclass(
            cls,
            host.shape,
            strides=host.stride(),
            storage_offset=host.storage_offset(),
            dtype=host.dtype,
            layout=host.layout,
            device=ensure_backend(),
            requires_grad=requires_grad,
        )
        wrapper.host = host
        return wrapper

    # Reads of the values. torch refuses them on subclasses; these go through the active torch
    # function modes first (the sync detector counts them there), then read the host data.
    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        if has_torch_function_unary(self):
            shown: str = handle_torch_function(DeviceTensor.__repr__, (self,), self)  # type: ignore[arg-type]
            return shown
        shown = repr(self.host)
        return f"{shown[:-1]}, device='{self.device}')" if shown.endswith(")") else shown

    def tolist(self) -> Any:
        if has_torch_function_unary(self):
            return handle_torch_function(DeviceTensor.tolist, (self,), self)
        return self.host.tolist()

    def numpy(self, *, force: bool = False) -> Any:
        if has_torch_function_unary(self):
            return handle_torch_function(DeviceTensor.numpy, (self,), self, force=force)
        return self.host.numpy(force=force)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if has_torch_function_unary(self):
            return handle_torch_function(DeviceTensor.__array__, (self,), self, dtype)
        return self.host.__array__(dtype)

    def __format__(self, spec: str) -> str:
        if has_torch_function_unary(self):
            return handle_torch_function(DeviceTensor.__format__, (self,), self, spec)
        return format(self.host.item() if self.dim() == 0 else self.host, spec)

    def __tensor_flatten__(self) -> tuple[list[str], None]:
        return ["host"], None

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):  # type: ignore[override]
        return run_on_host(func, args, kwargs or {})


def _wrap(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and not isinstance(value, DeviceTensor):
        return DeviceTensor(value)
    return value


def run_on_host(func: Any, args: tuple, kwargs: dict) -> Any:
    """Run one aten op on the CPU data; results of device inputs or a device target are wrapped."""
    flat, spec = tree_flatten((args, kwargs))
    on_device = False
    for index, value in enumerate(flat):
        if isinstance(value, DeviceTensor):
            flat[index], on_device = value.host, True
        elif isinstance(value, torch.device) and value.type in _ACCELERATOR_TYPES:
            flat[index], on_device = _HOST, True
    host_args, host_kwargs = tree_unflatten(flat, spec)
    out = _HOST_KERNEL_GAPS.get(func, func)(*host_args, **host_kwargs)
    if func is _to_copy and kwargs.get("device") is not None:
        on_device = is_accelerator(kwargs["device"])  # .cpu() leaves the device
    if not on_device:
        return out
    return return_and_correct_aliasing(func, args, kwargs, tree_map(_wrap, out))


def _histc_of_integers(values: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """``histc`` on integers, which CUDA has and the CPU kernel lacks (MoE routers use it)."""
    if values.dtype.is_floating_point:
        return torch.ops.aten.histc.default(values, *args, **kwargs)
    return torch.ops.aten.histc.default(values.double(), *args, **kwargs).to(values.dtype)


# aten ops whose GPU kernels accept what the CPU kernels refuse: run an equivalent on the host
_HOST_KERNEL_GAPS: dict[Any, Any] = {
    torch.ops.aten.histc.default: _histc_of_integers,
    **GPU_ONLY_CELLS,  # nn.LSTM / nn.GRU on a GPU: fused cells with no CPU kernel
}


def _host_index(index: Any) -> Any:
    """Lists in an index become host tensors: torch would build them on the (stand-in) device."""
    if isinstance(index, list):
        return torch.tensor(index)
    if isinstance(index, tuple):
        return tuple(_host_index(part) for part in index)
    return index


def _host_device(kwargs: dict) -> dict:
    return {**kwargs, "device": _HOST}


class _HostFunctions(TorchFunctionMode):
    """Python calls: ``device=`` on the GPU becomes the host; results become device tensors."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", None)
        if name in ("to", "cuda") and args and isinstance(args[0], torch.Tensor):
            return _move(name, args, kwargs)
        if is_accelerator(kwargs.get("device")):
            return tree_map(_wrap, func(*args, **_host_device(kwargs)))
        if name in ("__getitem__", "__setitem__") and isinstance(args[0], DeviceTensor):
            return func(args[0], _host_index(args[1]), *args[2:], **kwargs)
        if name in _CONSTRUCTORS and args and isinstance(args[0], DeviceTensor):
            # x.new_tensor(data) builds on x's device below the dispatcher's reach
            return tree_map(_wrap, func(args[0].host, *args[1:], **kwargs))
        return func(*args, **kwargs)


def _move(name: str, args: tuple, kwargs: dict) -> Any:
    """``tensor.to(...)`` / ``tensor.cuda()`` with the stand-in as the GPU.

    A GPU target (``"cuda"``, ``torch.device("cuda:0")``, another tensor's device) becomes the
    stand-in device, so torch itself decides: the same device returns the tensor, a host tensor is
    copied by a dispatched ``_to_copy`` (seen by the copy detector, wrapped by ``run_on_host``).
    """
    device = ensure_backend()
    if name == "cuda":
        non_blocking = kwargs.get("non_blocking", args[2] if len(args) > 2 else False)
        return args[0].to(device, non_blocking=bool(non_blocking))

    def standin(value: Any) -> Any:
        return device if is_accelerator(value) else value

    moved_args = tuple(standin(value) for value in args[1:])
    moved_kwargs = {k: standin(v) if k == "device" else v for k, v in kwargs.items()}
    return args[0].to(*moved_args, **moved_kwargs)


class _HostDispatch(TorchDispatchMode):
    """aten ops: factories asked for the GPU (``empty(device=gpu)`` inside a kernel) run on host."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return run_on_host(func, args, kwargs or {})


def skip_dynamo_import(mode: type[TorchDispatchMode]) -> None:
    """A mode's handler runs as itself, not through torch's dynamo wrapper.

    torch wraps every ``__torch_dispatch__`` in ``torch._dynamo.disable`` so dynamo never compiles
    it: the wrapper imports dynamo on first use (seconds, in a worker that needs none) and, once
    dynamo is loaded (Lightning and the Hugging Face Trainer load it), switches dynamo's frame
    callback four times at every op. The handler's code is marked instead (``dynamo_frames``:
    skipped, with what it calls, as under the wrapper) and cached as the wrapper's "disabled"
    form. A torch that cannot mark frames keeps the wrapper, unless dynamo is not loaded (then
    nothing can compile the step).
    """
    raw = getattr(mode.__dict__["__torch_dispatch__"], "__wrapped__", None)
    if raw is None or getattr(raw, "__dynamo_disable", None) is raw:
        return
    if never_compiled(raw) or "torch._dynamo" not in sys.modules:
        setattr(raw, "__dynamo_disable", raw)  # the attribute name torch's wrapper reads


@contextmanager
def emulation() -> Iterator[torch.device]:
    """Inside, code runs as if the stand-in were a GPU; yields its device."""
    device = ensure_backend()
    skip_dynamo_import(_HostDispatch)
    _active[0] += 1
    try:
        with _HostDispatch(), _HostFunctions():
            yield device
    finally:
        _active[0] -= 1


def to_device(value: Any) -> Any:
    """The batch on the stand-in: every tensor (also nested in lists, tuples, dicts) wrapped."""

    def wrapped(tensor: torch.Tensor) -> torch.Tensor:
        if isinstance(tensor, DeviceTensor):
            return tensor
        return DeviceTensor(tensor.detach(), requires_grad=tensor.requires_grad)

    return map_tensors(wrapped, value)


@contextmanager
def placed_on_standin(model: nn.Module) -> Iterator[nn.Module]:
    """Swap every parameter and buffer for its stand-in twin (ties kept); put them back after."""
    twins: dict[int, torch.Tensor] = {}
    swapped: list[tuple[dict[str, Any], str, torch.Tensor]] = []

    def twin(tensor: torch.Tensor) -> torch.Tensor:
        made = twins.get(id(tensor))
        if made is None:
            data = DeviceTensor(tensor.detach())
            if isinstance(tensor, nn.Parameter):
                made = nn.Parameter(data, requires_grad=tensor.requires_grad)
            else:
                made = data
            twins[id(tensor)] = made
        return made

    with ExitStack() as stack:
        stack.callback(_restore, swapped)
        for module in model.modules():
            for table in (module._parameters, module._buffers):
                for name, tensor in list(table.items()):
                    if tensor is None or tensor.device.type != "cpu":
                        continue
                    swapped.append((table, name, tensor))
                    table[name] = twin(tensor)  # type: ignore[assignment]
        yield model


# Registered on import, before anything in this process runs a backward: torch's autograd engine
# sizes its per-device queues once, at the first backward, and could never run the stand-in's.
if torch._C._get_privateuse1_backend_name() == "privateuseone":
    ensure_backend()


def _restore(swapped: list[tuple[dict[str, Any], str, torch.Tensor]]) -> None:
    for table, name, original in reversed(swapped):
        table[name] = original
