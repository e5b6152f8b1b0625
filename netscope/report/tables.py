"""What the human-readable reports show about a snapshot, as plain tables of text.

Markdown and HTML render the same tables, so both say the same thing in the same words.
"""

from __future__ import annotations

from netscope.engine.model import ParamInfo, Snapshot, tie_label
from netscope.report.compute_tables import compute_tables
from netscope.report.sharding_tables import sharding_tables
from netscope.report.table import Table, block_label
from netscope.report.values import (
    fmt_bool,
    fmt_bytes,
    fmt_count,
    fmt_float,
    fmt_shape,
)
from netscope.units import LAZY_COUNT, NOT_AVAILABLE, location, param_count


def summary(snapshot: Snapshot) -> list[tuple[str, str]]:
    """Key facts at the top of every report."""
    forward = snapshot.forward
    model_class = snapshot.model_class + (f" ({snapshot.source})" if snapshot.source else "")
    if forward.ran:
        ran = f"ran: {forward.input_summary}" if forward.input_summary else "ran"
        ran += f"; backward: {forward.loss_source}" if forward.backward_ran else "; no backward"
    else:
        ran = "did not run"
    if forward.note:
        ran += f". {forward.note}"
    return [
        ("Target", snapshot.target),
        ("Kind", snapshot.kind),
        ("Class", model_class),
        ("Device", ", ".join(snapshot.devices) or snapshot.device),
        ("Parameters", _count(snapshot.total_params, snapshot, "ties counted once")),
        ("Trainable", _trainable(snapshot)),
        ("Size", _size(snapshot)),
        ("Blocks", fmt_count(len(snapshot.blocks))),
        ("Example forward", ran),
    ]


def _count(value: int | None, snapshot: Snapshot, note: str = "") -> str:
    """Exact, or 'at least' it while lazy parameters (no shape yet) are left out."""
    lazy = snapshot.uninitialized_params
    notes = [note] if note else []
    if value is not None and lazy:
        notes.append(f"{lazy} lazy parameter(s) not counted: shape set by the first forward")
    text = param_count(value, lazy, exact=True)
    return f"{text} ({'; '.join(notes)})" if notes else text


def _trainable(snapshot: Snapshot) -> str:
    if snapshot.kind == "checkpoint" and snapshot.trainable_params is None:
        return f"{NOT_AVAILABLE} (a checkpoint does not record requires_grad)"
    return _count(snapshot.trainable_params, snapshot)


def _size(snapshot: Snapshot) -> str:
    lazy = any(not t.initialized for t in (*snapshot.parameters, *snapshot.buffers))
    if snapshot.total_bytes is None and lazy:
        return f"{NOT_AVAILABLE} ({LAZY_COUNT})"
    return fmt_bytes(snapshot.total_bytes)


def findings_table(snapshot: Snapshot) -> Table:
    rows = [[f.severity, f.code, f.subject, f.message, f.location or ""] for f in snapshot.findings]
    return Table("Findings", ["Severity", "Code", "Subject", "Message", "Where"], rows, code={2, 4})


def _outputs(snapshot: Snapshot, path: str) -> str:
    block = snapshot.block_by_path[path]
    if not snapshot.forward.ran and snapshot.compute is None:
        return "n/a (no forward)"
    if block.calls is None:  # under netscope run: not called in the observed step
        return "n/a (container)" if block.container and snapshot.forward.ran else NOT_AVAILABLE
    if not block.outputs:  # an empty cell read as a value left out
        return "n/a (not called)" if block.calls == 0 else "no tensor"
    return "; ".join(
        (f"{o.label}: " if o.label else "") + f"{fmt_shape(o.shape)} {o.dtype}"
        for o in block.outputs
    )


def _tied_by_block(snapshot: Snapshot) -> dict[str, str]:
    """Per block, its own tied tensors: 'tied, counted once: weight (tie group 0)'. Each member of
    a group shows the full count in its row (4 x 32,000 for T5's shared embedding); the totals
    above them count the tensor once. A block reused under several paths says "also at" instead.
    """
    tied: dict[str, list[str]] = {}
    for info in (*snapshot.parameters, *snapshot.buffers):
        if info.tie_group is not None:
            named = f"{info.attribute} ({tie_label(info.tie_group)})"
            tied.setdefault(info.block, []).append(named)
    return {block: "tied, counted once: " + ", ".join(names) for block, names in tied.items()}


def blocks_table(snapshot: Snapshot) -> Table:
    rows = []
    tied = _tied_by_block(snapshot)
    for block in snapshot.blocks:
        kind = f"custom ({location(block.source)})" if block.custom and block.source else ""
        kind = kind or ("custom" if block.custom else "torch.nn" if block.type_module else "")
        notes = []
        if block.aliases:
            notes.append("also at " + ", ".join(block.aliases))
        if block.calls is not None and block.calls > 1:
            notes.append(f"called {block.calls}x (shared)")
        if block.unused:
            notes.append("never called")
        elif block.weights_used_by is not None:
            notes.append(f"never called; weights used by {block.weights_used_by or '(root)'}")
        notes += [f"{d.how} ({d.kind})" for d in block.derived]
        if block.path in tied and not block.aliases:
            notes.append(tied[block.path])
        rows.append(
            [
                block_label(block.path),
                block.type,
                kind,
                param_count(block.params, snapshot.own_uninitialized(block), exact=True),
                param_count(block.total_params, block.uninitialized_params, exact=True),
                "n/a" if block.calls is None else str(block.calls),
                _outputs(snapshot, block.path),
                "; ".join(notes),
            ]
        )
    headers = ["Path", "Type", "Class", "Own params", "Subtree params", "Calls", "Output", "Notes"]
    return Table("Blocks", headers, rows, code={0})


def _tensor_notes(info: ParamInfo) -> str:
    notes = []
    if info.tie_group is not None:
        notes.append(tie_label(info.tie_group))
    if not info.initialized:
        notes.append("uninitialized (lazy)")
    elif info.was_lazy:
        notes.append("materialized by the example forward")
    if info.unused:
        notes.append("unused: got no gradient")
    if info.has_nonfinite and info.stats is not None:
        notes.append(f"{info.stats.nan} NaN, {info.stats.inf} Inf")
    if info.kind == "buffer" and not info.persistent:
        notes.append("not persistent")
    if info.quantization is not None:
        notes.append(info.quantization.summary)
    if info.role:
        notes.append(info.role)
    if info.stats is not None and info.stats.over != "values":
        notes.append("statistics of |z|" if info.stats.over == "magnitude" else "dequantized")
    return "; ".join(notes)


def _grad_text(info: ParamInfo) -> str:
    if info.grad is None:
        return "n/a"
    if not info.grad.present:
        return "none"
    return fmt_float(info.grad.norm)


def tensors_table(title: str, tensors: tuple[ParamInfo, ...]) -> Table:
    rows = []
    for info in tensors:
        stats = info.stats
        rows.append(
            [
                info.name,
                fmt_shape(info.shape),
                info.dtype,
                info.device,
                fmt_count(info.numel),
                fmt_bool(info.requires_grad),
                fmt_float(stats.mean if stats else None),
                fmt_float(stats.std if stats else None),
                fmt_float(stats.min if stats else None),
                fmt_float(stats.max if stats else None),
                _grad_text(info),
                _tensor_notes(info),
            ]
        )
    headers = ["Name", "Shape", "Dtype", "Device", "Numel", "Trainable", "Mean", "Std", "Min"]
    headers += ["Max", "Grad norm", "Notes"]
    return Table(title, headers, rows, code={0})


def ties_table(snapshot: Snapshot) -> Table:
    rows = [
        [str(i), ", ".join(g.names), fmt_count(g.numel), g.how, g.note]
        for i, g in enumerate(snapshot.ties)
    ]
    return Table("Tied parameters", ["Group", "Names", "Numel", "How", "Note"], rows, code={1})


def unregistered_table(snapshot: Snapshot) -> Table:
    rows = [
        [block_label(u.module), u.attribute, fmt_shape(u.shape), u.dtype, u.device]
        for u in snapshot.unregistered
    ]
    note = (
        "Tensor attributes that are neither parameter nor buffer: not saved in state_dict and "
        "not moved by .to(). Register them with register_buffer() if they belong to the model."
    )
    headers = ["Block", "Attribute", "Shape", "Dtype", "Device"]
    return Table("Unregistered tensors", headers, rows, note=note if rows else "", code={0, 1})


def checkpoint_tables(snapshot: Snapshot) -> list[Table]:
    diff = snapshot.checkpoint
    if diff is None:
        return []
    verdict = "matches the model" if diff.clean else "differs from the model"
    if diff.stripped_prefix:
        verdict += f" once the prefix {diff.stripped_prefix!r} is removed from its keys"
    note = f"{diff.path}: {diff.loaded} tensors loaded; the checkpoint {verdict}."
    note += "".join(f" {extra.rstrip('.')}." for extra in diff.notes)
    keys = [["missing", k, "in the model, not in the checkpoint"] for k in diff.missing]
    keys += [["unexpected", k, "in the checkpoint, not in the model"] for k in diff.unexpected]
    keys += [["covered by tie", k, f"stored once as {stored}"] for k, stored in diff.covered_by_tie]
    mismatched = [
        [
            m.key,
            m.kind,
            f"{fmt_shape(m.model_shape)} {m.model_dtype}",
            f"{fmt_shape(m.checkpoint_shape)} {m.checkpoint_dtype}",
        ]
        for m in diff.mismatched
    ]
    return [
        Table("Checkpoint keys", ["Status", "Key", "Meaning"], keys, note=note, code={1}),
        Table(
            "Checkpoint mismatches", ["Key", "Kind", "Model", "Checkpoint"], mismatched, code={0}
        ),
    ]


def snapshot_tables(snapshot: Snapshot) -> list[Table]:
    """Every table of the model part of a report, in reading order: findings first (the HTML
    report puts the block tree after them), then the step's compute, memory and fit."""
    tables = [findings_table(snapshot), *compute_tables(snapshot), blocks_table(snapshot)]
    tables.append(tensors_table("Parameters", snapshot.parameters))
    tables += sharding_tables(snapshot)
    if snapshot.buffers:
        tables.append(tensors_table("Buffers", snapshot.buffers))
    tables += [ties_table(snapshot), unregistered_table(snapshot)]
    return tables + checkpoint_tables(snapshot)
