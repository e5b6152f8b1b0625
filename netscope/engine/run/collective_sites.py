"""Which collective a wrapped call is, how many bytes it moves, and which block issued it.

Kept apart from the wrappers (collectives.py) so the tables and the frame walk read on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any


@dataclass(frozen=True)
class Site:
    """A collective entry point: its kind and where its measured tensor is among its arguments.

    ``bytes_of`` "arg": the tensor argument at ``index`` / ``name``; "result": the returned
    tensor (a functional all-gather's output); "none" (a barrier). ``times_list``: multiplied by
    the length of the list argument at position 0 (``all_gather(tensor_list, tensor)``).
    """

    kind: str
    bytes_of: str = "arg"
    index: int = 0
    name: str = ""
    times_list: bool = False


# torch.distributed's entry points (FSDP2 calls the *_single ones; the *_tensor ones are their
# deprecated names and call them, counted once by the wrappers' reentrancy guard)
C10D_KINDS: dict[str, Site] = {
    "all_reduce": Site("all_reduce", name="tensor"),
    "broadcast": Site("broadcast", name="tensor"),
    "barrier": Site("barrier", bytes_of="none"),
    "all_gather": Site("all_gather", index=1, name="tensor", times_list=True),
    "all_gather_single": Site("all_gather", name="output_tensor"),
    "all_gather_into_tensor": Site("all_gather", name="output_tensor"),
    "reduce_scatter_single": Site("reduce_scatter", index=1, name="input"),
    "reduce_scatter_tensor": Site("reduce_scatter", index=1, name="input"),
    "all_to_all_single": Site("all_to_all", index=1, name="input"),
}

# torch.distributed._functional_collectives, as DTensor's redistribute calls them
FUNCTIONAL_KINDS: dict[str, Site] = {
    "all_reduce": Site("all_reduce", name="self"),
    "all_gather_single": Site("all_gather", bytes_of="result"),
    "all_gather_tensor": Site("all_gather", bytes_of="result"),
    "reduce_scatter_single": Site("reduce_scatter", name="self"),
    "reduce_scatter_tensor": Site("reduce_scatter", name="self"),
    "all_to_all_single": Site("all_to_all", name="self"),
}


def tensor_bytes(site: Site, args: tuple, kwargs: dict, result: Any = None) -> int:
    """The full tensor's bytes: an all-gather's output, a reduce-scatter's input."""
    if site.bytes_of == "none":
        return 0
    if site.bytes_of == "result":
        return _nbytes(result)
    tensor = kwargs.get(site.name) if site.name in kwargs else _at(args, site.index)
    size = _nbytes(tensor)
    if site.times_list:
        listed = kwargs.get("tensor_list", _at(args, 0))
        size *= len(listed) if isinstance(listed, (list, tuple)) else 1
    return size


def _at(args: tuple, index: int) -> Any:
    return args[index] if len(args) > index else None


def _nbytes(tensor: Any) -> int:
    try:
        return int(tensor.numel()) * int(tensor.element_size())
    except (AttributeError, RuntimeError, TypeError):
        return 0


_FSDP_GROUP_FILE = "_fsdp_param_group.py"
_DDP_FILE = "parallel/distributed.py"
_MAX_FRAMES = 80
_MODULE_CALLS = ("_call_impl", "_wrapped_call_impl")
# what a code object is to the walk, decided once per code object: 1 an FSDP2 parameter
# group's method, 2 DDP's, 3 nn.Module's call, 0 anything else
_ROLES: dict[CodeType, int] = {}


def _role(code: CodeType) -> int:
    role = _ROLES.get(code)
    if role is None:
        filename = code.co_filename.replace("\\", "/")
        if filename.endswith(_FSDP_GROUP_FILE):
            role = 1
        elif _DDP_FILE in filename:
            role = 2
        elif code.co_name in _MODULE_CALLS and filename.endswith("torch/nn/modules/module.py"):
            role = 3
        else:
            role = 0
        _ROLES[code] = role
    return role


def issuer_of(
    frame: FrameType | None, path_of: Callable[[Any], str | None]
) -> tuple[str, str | None]:
    """(via, block) of the caller: ``fsdp`` and the unit's module path when an FSDP2 parameter
    group is on the stack; else ``ddp`` inside DistributedDataParallel, or ``script``; the block
    is the innermost module of the main model whose forward is running (``path_of``). The walk
    ends there: FSDP's and DDP's own frames are inside the module call that runs them."""
    via = "script"
    depth = 0
    roles = _ROLES
    while frame is not None and depth < _MAX_FRAMES:
        code = frame.f_code
        role = roles.get(code)
        if role is None:
            role = _role(code)
        if role == 1:
            fqn = getattr(frame.f_locals.get("self"), "_module_fqn", None)
            return "fsdp", fqn
        if role == 2:
            via = "ddp"
        elif role == 3:  # the innermost module call: an FSDP group's frames are inside it
            module = frame.f_locals.get("self")
            block = path_of(module) if module is not None else None
            if block is not None:
                return via, block
        frame = frame.f_back
        depth += 1
    return via, None
