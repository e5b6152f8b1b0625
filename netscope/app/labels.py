"""Rich text for tree rows: name, class, one figure (parameters, FLOPs or saved activations; the
tree's column key cycles them), marker tags, then the output shape: what a narrow pane cuts off
is the shape (also in the details), never a marker."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from netscope.app import format as fmt
from netscope.app.markers import MARKER_STYLES
from netscope.app.tree_index import block_measure
from netscope.engine.model import BlockInfo, ParamInfo, Snapshot, UnregisteredTensor

# What a block row's figure is, in the order the column key cycles through them
COLUMNS = ("params", "flops", "memory")
COLUMN_TITLES = {
    "params": "parameters",
    "flops": "FLOPs of the example step",
    "memory": "activations saved for backward",
}


def block_figure(block: BlockInfo, column: str, complete: bool = True) -> str:
    """A block row's figure for ``column`` "flops" or "memory"; not counted reads n/a (before
    the forward finished: …), never 0. FLOPs are forward + backward, or forward alone when no
    backward ran."""
    figure = block_measure(block, column)
    if column == "flops":
        return f"FLOPs {fmt.NA if complete else '…'}" if figure is None else fmt.flops(figure)
    return f"saved {fmt.NA if complete else '…'}" if figure is None else f"{fmt.size(figure)} saved"


def _tags(text: Text, markers: Iterable[str]) -> Text:
    for marker in markers:
        text.append(" ")
        text.append(marker, style=MARKER_STYLES.get(marker, "bold"))
    return text


def block_label(
    block: BlockInfo,
    snapshot: Snapshot,
    markers: Iterable[str],
    counted: bool = True,
    column: str = "params",
    complete: bool = True,
) -> Text:
    """``counted`` False: lazy parameters below have no shape yet, so the count reads "?".
    ``column``: the figure after the class (COLUMNS); ``complete`` False: the forward that
    counts FLOPs and saved activations is still running."""
    text = Text(f"{block.name} " if block.path else "", style="bold")
    text.append(block.type, style="cyan" if block.custom else "green")
    if column == "params":
        text.append(f" {_tree_count(block) if counted else '?'}", style="dim")
    else:
        text.append(f" {block_figure(block, column, complete)}", style="dim")
    _tags(text, markers)
    if block.outputs:
        first = block.outputs[0]
        more = f"+{len(block.outputs) - 1}" if len(block.outputs) > 1 else ""
        text.append(f" →{fmt.shape(first.shape)}{more}", style="dim italic")
    return text


def _tree_count(block: BlockInfo) -> str:
    """The subtree's count; '≥325' leaves lazy parameters out, 'n/a' when all are lazy."""
    if block.total_params is None or not block.uninitialized_params:
        return fmt.count(block.total_params)
    return f"≥{fmt.count(block.total_params)}"


def tensor_label(info: ParamInfo, markers: Iterable[str]) -> Text:
    icon = "◦" if info.kind == "parameter" else "▫"
    text = Text(f"{icon} {info.attribute}", style="" if info.kind == "parameter" else "italic")
    _tags(text, markers)
    text.append(f" {tensor_shape(info)}", style="dim")
    text.append(f" {info.dtype.removeprefix('torch.')}", style="dim")
    if info.kind == "buffer":
        text.append(" buffer", style="dim")
    return text


def tensor_shape(info: ParamInfo) -> str:
    """``[16, 16] of [32, 16]`` for this rank's shard of a sharded tensor, else its shape."""
    if info.local_shape is None:
        return fmt.shape(info.shape)
    return f"{fmt.shape(info.local_shape)} of {fmt.shape(info.shape)}"


def unregistered_label(tensor: UnregisteredTensor) -> Text:
    text = Text(f"! {tensor.attribute}", style="red")
    text.append(f" {fmt.shape(tensor.shape)}", style="dim")
    return _tags(text, ["unregistered"])
