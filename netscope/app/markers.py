"""Marker words shown in the tree and matched by the filter (``/tied``, ``/lazy`` ...)."""

from __future__ import annotations

from collections.abc import Iterable

from netscope.engine.model import BlockInfo, ParamInfo

MARKER_STYLES: dict[str, str] = {
    "custom": "bold cyan",
    "shared": "bold magenta",
    "tied": "bold yellow",
    "lazy": "bold blue",
    "unregistered": "bold red",
    "unused": "bold bright_black",
    "nan": "bold white on red",
    "quantized": "bold green",
    "pruned": "bold green",
    "parametrized": "bold green",
    "fsdp": "bold bright_blue",
    "tp": "bold bright_blue",
    "sharded": "bold bright_blue",
}
MARKERS = tuple(MARKER_STYLES)


def block_markers(block: BlockInfo) -> tuple[str, ...]:
    """Markers that belong to the block itself (the filter matches these on blocks)."""
    found = []
    if block.custom:
        found.append("custom")
    if block.shared:
        found.append("shared")
    if block.unregistered:
        found.append("unregistered")
    if block.unused:
        found.append("unused")
    for derived in block.derived:  # a pruned or parametrized weight of this block
        found.append("pruned" if derived.kind == "pruning" else "parametrized")
    if block.fsdp_unit:
        found.append("fsdp")
    if block.parallel_style is not None:
        found.append("tp")
    return tuple(dict.fromkeys(found))


def tensor_markers(info: ParamInfo) -> tuple[str, ...]:
    found = []
    if info.tie_group is not None:
        found.append("tied")
    if info.was_lazy or not info.initialized:
        found.append("lazy")
    if info.unused:
        found.append("unused")
    if info.has_nonfinite:
        found.append("nan")
    if info.quantization is not None or info.role == "packed":
        found.append("quantized")
    if info.role in ("pruned", "parametrized"):
        found.append(info.role)
    if info.local_shape is not None:
        found.append("sharded")
    return tuple(found)


def block_row_markers(block: BlockInfo, tensors: Iterable[ParamInfo]) -> tuple[str, ...]:
    """The block's own markers plus those of its direct parameters and buffers, for its row."""
    found = set(block_markers(block))
    for info in tensors:
        found.update(tensor_markers(info))
    return tuple(m for m in MARKERS if m in found)
