"""Which collective a wrapped call is, how many bytes it moves, and which block issued it.

Kept apart from the wrappers (collectives.py) so the tables and the frame walk read on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
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


def issuer_of(
    frame: FrameType | None, path_of: Callable[[Any], str | None]
) -> tuple[str, str | None]:
    """(via, block) of the caller: ``fsdp`` and the unit's module path when an FSDP2 parameter
    group is on the stack; else ``ddp`` inside DistributedDataParallel, or ``script``; the block
    is the innermost module of the main model whose forward is running (``path_of``)."""
    block: str | None = None
    via = "script"
    depth = 0
    while frame is not None and depth < _MAX_FRAMES:
        code = frame.f_code
        filename = code.co_filename
        if filename.endswith(_FSDP_GROUP_FILE):
            group = frame.f_locals.get("self")
            fqn = getattr(group, "_module_fqn", None)
            return "fsdp", fqn if fqn is not None else block
        if _DDP_FILE in filename.replace("\\", "/"):
            via = "ddp"
        if block is None and code.co_name in ("_call_impl", "_wrapped_call_impl"):
            module = frame.f_locals.get("self")
            if module is not None:
                block = path_of(module)
        frame = frame.f_back
        depth += 1
    return via, block
