"""Rich text for tree rows: name, class, parameter count, output shape and marker tags."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from netscope.app import format as fmt
from netscope.app.markers import MARKER_STYLES
from netscope.engine.model import BlockInfo, ParamInfo, Snapshot, UnregisteredTensor


def _tags(text: Text, markers: Iterable[str]) -> Text:
    for marker in markers:
        text.append(" ")
        text.append(marker, style=MARKER_STYLES.get(marker, "bold"))
    return text


def block_label(
    block: BlockInfo, snapshot: Snapshot, markers: Iterable[str], counted: bool = True
) -> Text:
    """``counted`` False: lazy parameters below have no shape yet, so the count reads "?"."""
    text = Text(f"{block.name} " if block.path else "", style="bold")
    text.append(block.type, style="cyan" if block.custom else "green")
    text.append(f" {fmt.count(block.total_params) if counted else '?'}", style="dim")
    if block.outputs:
        first = block.outputs[0]
        more = f"+{len(block.outputs) - 1}" if len(block.outputs) > 1 else ""
        text.append(f" →{fmt.shape(first.shape)}{more}", style="dim italic")
    return _tags(text, markers)


def tensor_label(info: ParamInfo, markers: Iterable[str]) -> Text:
    icon = "◦" if info.kind == "parameter" else "▫"
    text = Text(f"{icon} {info.attribute}", style="" if info.kind == "parameter" else "italic")
    text.append(f" {fmt.shape(info.shape)}", style="dim")
    text.append(f" {info.dtype.removeprefix('torch.')}", style="dim")
    if info.kind == "buffer":
        text.append(" buffer", style="dim")
    return _tags(text, markers)


def unregistered_label(tensor: UnregisteredTensor) -> Text:
    text = Text(f"! {tensor.attribute}", style="red")
    text.append(f" {fmt.shape(tensor.shape)}", style="dim")
    return _tags(text, ["unregistered"])
