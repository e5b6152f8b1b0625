"""The details pane's text for a block, a parameter/buffer or an unregistered tensor."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from netscope.app import format as fmt
from netscope.app.details_step import COMPUTING, block_rows, step_parts
from netscope.app.facts import Facts
from netscope.app.live_state import LiveState
from netscope.app.markers import MARKER_STYLES, block_markers, tensor_markers
from netscope.app.tree_index import NodeKey, TreeIndex
from netscope.engine.model import BlockInfo, CheckpointDiff, ParamInfo, tie_label
from netscope.units import param_count

__all__ = ["COMPUTING", "block_details", "describe", "tensor_details"]
# COMPUTING: shown for what the worker is still computing (never a made-up 0)


def _unknown(index: TreeIndex) -> str:
    """What a missing value reads: not available, or not computed yet."""
    return fmt.NA if index.complete else COMPUTING


NEVER_CALLED = "n/a (container: never called itself)"


def _calls_phrase(calls: int) -> str:
    return "1 call" if calls == 1 else f"{calls} calls"


def _calls(block: BlockInfo, index: TreeIndex) -> str:
    if block.calls is not None:
        return str(block.calls)
    if block.container and index.snapshot.forward.ran:
        return NEVER_CALLED
    return _unknown(index)


def _facts(rows: list[tuple[str, str]]) -> Facts:
    return Facts(rows)


def _heading(title: str, subtitle: str, markers: tuple[str, ...]) -> Text:
    text = Text(title or "(root)", style="bold reverse")
    text.append(f" {subtitle}", style="bold")
    for marker in markers:
        text.append(" ")
        text.append(marker, style=MARKER_STYLES[marker])
    return text


def describe(key: NodeKey | None, index: TreeIndex, live: LiveState) -> RenderableType:
    if key is None:
        return Text("Select a row in the tree to see its details.", style="dim")
    if key.kind == "more":
        return Text.assemble(
            ("More rows under ", "italic"),
            (key.name or index.snapshot.model_class, "bold"),
            (": press Enter (or l) to show the next page. Filters (/) and n/N reach every "
             "row, shown or not.", "italic"),
        )  # fmt: skip
    if key.kind == "block":
        block = index.block(key.name)
        if block is not None:
            return block_details(block, index, live)
    tensor = index.unregistered_tensor(key)  # by (block, attribute): never a name's suffix
    if tensor is not None:
        return Group(
            _heading(key.name, "unregistered tensor", ("unregistered",)),
            _facts(
                [
                    ("shape", fmt.shape(tensor.shape)),
                    ("dtype", tensor.dtype),
                    ("device", tensor.device),
                ]
            ),
            Text(
                "Neither parameter nor buffer: not saved in the state_dict and not moved "
                "by .to(); register it with register_buffer() if the model needs it.",
                style="italic",
            ),
        )
    info = index.snapshot.tensor_by_name.get(key.name)
    if info is not None and key.kind != "unregistered":
        return tensor_details(info, index)
    return Text(f"{key.name}: no details", style="dim")


def _params_text(block: BlockInfo, index: TreeIndex) -> str:
    """'325 total, 0 own'; 'at least' where lazy parameters (no shape yet) are left out."""
    own_lazy = index.snapshot.own_uninitialized(block)
    total = param_count(block.total_params, block.uninitialized_params)
    return f"{total} total, {param_count(block.params, own_lazy)} own"


CHECKPOINT_CLASS = "none: a checkpoint alone holds tensors, grouped here by their dotted names"


def block_details(block: BlockInfo, index: TreeIndex, live: LiveState) -> RenderableType:
    rows = [("path", block.path or "(root)")]
    if index.snapshot.kind == "checkpoint":  # tensors by name: no module, so no class or source
        rows.append(("class", CHECKPOINT_CLASS))
    else:
        rows += [
            ("class", block.type),
            ("module", block.type_module),
            ("source", _source(block)),
        ]
    rows.append(("params", _params_text(block, index)))
    if block.path in index.uncounted:
        rows[-1] = ("params", f"{COMPUTING} (lazy parameters get their shape in the forward)")
    rows += [
        ("calls", _calls(block, index)),
    ]
    if not index.complete:
        rows.append(("output", COMPUTING))
    if block.path or (index.snapshot.compute is None and index.snapshot.memory is None):
        rows += block_rows(block, index)  # the root's are in its step sections (step_parts)
    if block.fsdp is not None:
        rows.append(("fsdp unit", f"fully_shard: {block.fsdp.summary}"))
    if block.parallel_style is not None:
        how = "" if block.parallel_style_how == "hook" else f" ({block.parallel_style_how})"
        rows.append(("tensor parallel", f"{block.parallel_style}{how}"))
    if block.weights_used_by is not None:
        by = block.weights_used_by or "(root)"
        rows.append(("weights used", f"by the forward of {by} without calling this block"))
    for derived in block.derived:
        rows.append((derived.kind, f"{derived.how} ({derived.method})"))
    for out in block.outputs:
        rows.append((f"output {out.label}".rstrip(), f"{fmt.shape(out.shape)} {out.dtype}"))
    if block.activation is not None:
        act = block.activation
        rows.append(
            (
                "activation",
                f"mean {fmt.num(act.mean)} std {fmt.num(act.std)} "
                f"zeros {fmt.fraction(act.zero_fraction)}",
            )
        )
    if block.aliases:
        rows.append(("also at", ", ".join(block.aliases)))
    diff = index.snapshot.checkpoint
    if not block.path and diff is not None:  # the root: how the checkpoint's keys lined up
        rows += checkpoint_rows(diff)
    for timing in live.block_rows(block.path):
        rows.append(
            (
                f"time {timing.device}",
                f"{fmt.ms(timing.inclusive_ms)} incl, {fmt.ms(timing.self_ms)} self, "
                + (NEVER_CALLED if block.container else _calls_phrase(timing.calls)),
            )
        )
    for copy in live.copies or ():
        if copy.block == block.path:
            rows.append(
                (
                    "copy",
                    f"{copy.direction} {copy.count}× {fmt.size(copy.bytes)} "
                    f"at {copy.location or fmt.NA}",
                )
            )
    for sync in live.syncs or ():
        if sync.block == block.path:
            rows.append(
                ("sync", f"{sync.op} {sync.count}× {sync.reason} at {sync.location or fmt.NA}")
            )
    parts: list[RenderableType] = [
        _heading(block.path or "(root)", block.type, block_markers(block)),
        _facts(rows),
    ]
    for tensor in index.unregistered.get(block.path, ()):
        parts.append(
            Text(f"unregistered tensor {tensor.attribute} {fmt.shape(tensor.shape)}", style="red")
        )
    if not block.path:  # the root: the whole step's compute, memory and fit
        parts += step_parts(index)
    return Group(*parts)


SHOWN_KEYS = 5  # names per kind of difference on the root (every one: the Markdown report)


def _keys(keys: Sequence[str], what: str) -> str:
    more = f", +{len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{fmt.count(len(keys))} ({what}): {', '.join(keys[:SHOWN_KEYS])}{more}"


def checkpoint_rows(diff: CheckpointDiff) -> list[tuple[str, str]]:
    """The root's lines on the checkpoint: the verdict, then which keys differ and how."""
    verdict = "matches the model" if diff.clean else "differs from the model"
    rows = [("checkpoint", f"{diff.path}: {diff.loaded} loaded, {verdict}")]
    rows += [("", note) for note in diff.notes]  # a stripped prefix first: what to do
    if diff.missing:
        rows.append(("missing", _keys(diff.missing, "the model's, not in the checkpoint")))
    if diff.unexpected:
        rows.append(("unexpected", _keys(diff.unexpected, "in the checkpoint, not the model")))
    shapes = [m.key for m in diff.mismatched if m.kind == "shape"]
    if shapes:
        rows.append(("other shape", _keys(shapes, "not loaded")))
    casts = [m.key for m in diff.mismatched if m.kind == "dtype"]
    if casts:
        rows.append(("other dtype", _keys(casts, "loaded with a cast")))
    return rows


def sharding_rows(info: ParamInfo) -> list[tuple[str, str]]:
    """A DTensor's layout: global shape above, this rank's shard, placements, mesh."""
    if info.placements is None:
        return []
    local = info.local_shape if info.local_shape is not None else info.shape
    rows = [
        ("local shard", f"{fmt.shape(local)} on this rank (statistics are of it)"),
        ("placements", ", ".join(info.placements)),
    ]
    if info.mesh is not None:
        rows.append(("mesh", info.mesh.summary))
    return rows


_OVER = {
    "dequantized": "the dequantized values ((q - zero_point) * scale)",
    "magnitude": "the magnitude |z| of the complex values",
}


def tensor_details(info: ParamInfo, index: TreeIndex) -> RenderableType:
    rows = [
        ("kind", info.kind),
        ("shape", fmt.shape(info.shape) + (" (global)" if info.placements else "")),
        ("dtype", info.dtype),
        ("device", info.device),
        ("numel", fmt.count(info.numel)),
        ("bytes", fmt.size(info.bytes)),
        ("requires_grad", str(info.requires_grad)),
        ("state_dict", "saved" if info.persistent else "NOT saved (non-persistent)"),
    ]
    if info.was_lazy:
        rows.append(("lazy", "shape inferred by the example forward"))
    checkpoint = index.snapshot.checkpoint.about(info.name) if index.snapshot.checkpoint else ""
    if checkpoint:
        rows.append(("checkpoint", checkpoint))
    rows += sharding_rows(info)
    if info.quantization is not None:
        rows.append(("quantization", info.quantization.summary))
    if info.note:
        rows.append((info.role or "note", info.note))
    stats = info.stats
    if stats is not None:
        if stats.over != "values":
            rows.append(("statistics of", _OVER[stats.over]))
        rows += [
            ("mean / std", f"{fmt.num(stats.mean)} / {fmt.num(stats.std)}"),
            ("min / max", f"{fmt.num(stats.min)} / {fmt.num(stats.max)}"),
            ("l2", fmt.num(stats.l2)),
            ("zeros", fmt.fraction(stats.zero_fraction)),
            ("nan / inf", f"{stats.nan} / {stats.inf}"),
        ]
        if stats.histogram:
            low, high = stats.histogram_range or (None, None)
            rows.append(
                ("histogram", f"{fmt.num(low, 3)} {fmt.bars(stats.histogram)} {fmt.num(high, 3)}")
            )
    else:
        rows.append(("values", _unknown(index)))
    grad = info.grad
    if grad is None:
        rows.append(("grad", "no backward ran" if index.complete else COMPUTING))
    elif not grad.present:
        rows.append(("grad", "none (unused by the loss)" if info.requires_grad else "none"))
    else:
        of = " (of |g|)" if grad.over == "magnitude" else ""
        rows.append(
            (
                "grad",
                f"norm {fmt.num(grad.norm)} mean{of} {fmt.num(grad.mean)} "
                f"max|g| {fmt.num(grad.max_abs)} nan {grad.nan} inf {grad.inf}",
            )
        )
    parts: list[RenderableType] = [
        _heading(info.name, info.kind, tensor_markers(info)),
        _facts(rows),
    ]
    if info.tie_group is not None:
        group = index.snapshot.ties[info.tie_group]
        parts.append(Text(f"{tie_label(info.tie_group)} ({group.how}): {group.note}", "yellow"))
    return Group(*parts)


def _source(block: BlockInfo) -> str:
    """Where the block's class is defined; a library's file read from its package
    (``transformers/models/gpt2/modeling_gpt2.py:630``), as the run's Syncs tab shows it."""
    if block.source:
        return fmt.location(block.source)
    return "built-in" if not block.custom else fmt.NA
