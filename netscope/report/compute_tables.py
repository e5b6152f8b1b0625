"""What the human-readable reports show about the example step's FLOPs, memory and ``--fit``
verdict, as plain tables of text (the ``compute``, ``memory`` and ``fit`` of docs/schema.md).

A figure that was not measured reads "n/a" with the reason beside it, never 0.
"""

from __future__ import annotations

from netscope.engine.model import BlockInfo, Compute, FitVerdict, Memory, Snapshot
from netscope.engine.plan.describe import devices_label, layout_label, per_device_parts
from netscope.engine.self_figures import self_saved_bytes, top_blocks
from netscope.report.table import Table, block_label
from netscope.report.values import (
    NOT_AVAILABLE,
    fmt_bytes,
    fmt_count,
    fmt_flops,
    fmt_macs,
)

TOP_BLOCKS = 10
NO_FORWARD = f"{NOT_AVAILABLE}: no example forward ran, so"
ATTENTION = {
    None: "none (no scaled_dot_product_attention call)",
    "causal": "causal (scaled_dot_product_attention)",
    "full": "full (scaled_dot_product_attention)",
    "mixed": "mixed: causal and full scaled_dot_product_attention calls",
}


def _flops_and_macs(flops: int | None, missing: str) -> str:
    if flops is None:
        return f"{NOT_AVAILABLE} ({missing})"
    return f"{fmt_flops(flops)} ({fmt_macs(flops)})"


def _share(part: int, whole: int | None) -> str:
    if not whole:
        return NOT_AVAILABLE
    percent = part / whole * 100
    return "<0.1%" if 0 < percent < 0.05 else f"{percent:.1f}%"


EXAMPLE_STEP = "the example step"
OBSERVED_STEP = "one of the script's own steps"  # netscope run: no example step ran


def compute_table(compute: Compute | None, step: str = EXAMPLE_STEP) -> Table:
    note = f"FLOPs of {step}, counted from the ops that ran; a multiply-add is 2 FLOPs."
    if compute is None:
        return Table(
            "Compute", ["Figure", "Value"], [], empty=f"{NO_FORWARD} no FLOPs were counted."
        )
    backward = compute.backward_flops
    rows = [
        ["Forward", _flops_and_macs(compute.forward_flops, "")],
        ["Backward", _flops_and_macs(backward, "no backward ran")],
    ]
    if backward is not None:
        rows.append(["Forward + backward", _flops_and_macs(compute.step_flops, "")])
    rows.append(["Attention", ATTENTION.get(compute.attention, str(compute.attention))])
    uncounted = ", ".join(f"{u.op} ×{u.count}" for u in compute.uncounted_ops)
    rows.append(["Ops without a FLOP formula (not counted)", uncounted or "none"])
    return Table("Compute", ["Figure", "Value"], rows, note=note)


def _self_forward(block: BlockInfo) -> int | None:
    return block.self_forward_flops


def top_flops_table(snapshot: Snapshot, compute: Compute) -> Table:
    rows = [
        [
            block_label(block.path),
            block.type,
            fmt_flops(own),
            fmt_flops(block.self_backward_flops),
            fmt_flops(block.forward_flops),
            _share(own, compute.forward_flops),
            fmt_count(block.calls),
        ]
        for block, own in top_blocks(snapshot, _self_forward, TOP_BLOCKS)
    ]
    note = (
        f"Where the FLOPs are: the {TOP_BLOCKS} blocks whose own ops (not a child block's) count "
        "the most forward FLOPs, every call added up; share of the model's forward FLOPs. "
        "With children: the block and everything under it."
    )
    headers = ["Block", "Type", "Forward (own)", "Backward (own)", "Forward (with children)"]
    headers += ["Share of forward", "Calls"]
    return Table(
        "Top blocks by FLOPs",
        headers,
        rows,
        note=note if rows else "",
        code={0},
        empty="No block counted any FLOPs.",
    )


def memory_table(memory: Memory | None, step: str = EXAMPLE_STEP) -> Table:
    headers = ["Part", "Size", "Note"]
    if memory is None:
        empty = f"{NO_FORWARD} the step's memory was not measured."
        return Table("Memory", headers, [], empty=empty)
    how = "measured" if memory.how == "measured" else "estimated"
    note = f"What {step} holds on {memory.device}, {how}; tied storage counted once."
    if memory.note:
        note += f" {memory.note[:1].upper()}{memory.note[1:].rstrip('.')}."
    optimizer = memory.optimizer or ""
    if memory.peak_bytes is None:
        peak_note = ""
    else:
        peak_note = f"at {memory.peak_at}, {how}" if memory.peak_at else how
    rows = [
        ["Parameters", fmt_bytes(memory.params_bytes), ""],
        ["Buffers", fmt_bytes(memory.buffers_bytes), ""],
        ["Gradients", fmt_bytes(memory.grads_bytes), _why(memory.grads_bytes, "no backward ran")],
        [
            "Optimizer state",
            fmt_bytes(memory.optimizer_bytes),
            optimizer or _why(memory.optimizer_bytes, "no optimizer step (--train)"),
        ],
        [
            "Saved activations",
            fmt_bytes(memory.activations_bytes),
            "saved for backward"
            if memory.activations_bytes is not None
            else "the forward ran without grad",
        ],
        ["Peak", fmt_bytes(memory.peak_bytes), peak_note or _why(None, "not measured")],
    ]
    if memory.replay_peak_bytes is not None:
        why = f"; differs by design: {memory.replay_differs}" if memory.replay_differs else ""
        rows.append([
            "Peak, meta replay", fmt_bytes(memory.replay_peak_bytes),
            f"the same step replayed on meta, what --fit rests on{why}",
        ])  # fmt: skip
    return Table("Memory", headers, rows, note=note)


def _why(value: int | None, reason: str) -> str:
    return "" if value is not None else reason


def top_saved_table(snapshot: Snapshot, memory: Memory) -> Table:
    rows = [
        [
            block_label(block.path),
            block.type,
            fmt_bytes(own),
            fmt_bytes(block.saved_bytes),
            _share(own, memory.activations_bytes),
            fmt_count(block.calls),
        ]
        for block, own in top_blocks(snapshot, self_saved_bytes, TOP_BLOCKS)
    ]
    note = (
        f"The {TOP_BLOCKS} blocks whose own ops (not a child block's) saved the most activations "
        "for backward, each storage once; share of all saved activations. With children: the "
        "block and everything under it."
    )
    headers = ["Block", "Type", "Saved (own)", "Saved (with children)", "Share of saved", "Calls"]
    return Table(
        "Top blocks by saved activations",
        headers,
        rows,
        note=note if rows else "",
        code={0},
        empty="No block saved activations for backward.",
    )


def fit_verdict_text(fit: FitVerdict) -> str:
    """One line: ``Fits H100: the train (adamw) step needs 1.2 GiB of 78.1 GiB usable...``."""
    verdict = "Fits" if fit.fits else "Does not fit"
    margin = "margin" if fit.margin_bytes >= 0 else "short by"
    text = (
        f"{verdict} {devices_label(fit)}: the {fit.step} step needs "
        f"{fmt_bytes(fit.needed_bytes)} of {fmt_bytes(fit.capacity_bytes)} usable; "
        f"{margin} {fmt_bytes(abs(fit.margin_bytes))}; "
        f"largest batch {fmt_count(fit.max_batch)}"
    )
    if fit.batch is not None:
        text += f" (the example's is {fit.batch})"
    if fit.note:
        text += f". {fit.note[:1].upper()}{fit.note[1:].rstrip('.')}"
    return text + "."


def fit_table(fit: FitVerdict) -> Table:
    usable = fmt_bytes(fit.capacity_bytes)
    if fit.context_bytes:
        usable += (
            f" ({fmt_bytes(fit.capacity_bytes + fit.context_bytes)} less "
            f"{fmt_bytes(fit.context_bytes)} for the CUDA context)"
        )
    rows = [
        ["Verdict", "fits" if fit.fits else "does not fit"],
        ["Device", fit.device],
        ["Step", fit.step],
        ["Needed", f"{fmt_bytes(fit.needed_bytes)} (the step's peak, estimated on meta)"],
        ["Usable", usable],
        ["Margin", fmt_bytes(fit.margin_bytes)],
        ["Largest batch", fmt_count(fit.max_batch)],
        ["Example batch", fmt_count(fit.batch)],
    ]
    if fit.per_device is not None:
        least = "none found" if fit.min_devices is None else fmt_count(fit.min_devices)
        rows[3][1] = f"{fmt_bytes(fit.needed_bytes)} per GPU (the step replayed as planned)"
        rows += [["Layout", layout_label(fit)], ["Fewest GPUs that fit", least]]
        rows += [[f"Per GPU: {name}", fmt_bytes(value)] for name, value in per_device_parts(fit)]
        rows.append(["Per GPU: peak at", fit.per_device.peak_at])
        if fit.units:
            rows.append(["FSDP units", ", ".join(fit.units) + " + the root"])
        if fit.checkpoint:
            rows.append(["Checkpointed", ", ".join(fit.checkpoint)])
            rows.append(["Recomputed", fmt_flops(fit.recompute_flops)])
    return Table(
        "Fit", ["Figure", "Value"], rows, note=fit_verdict_text(fit), snippet=fit.checkpoint_code
    )


def compute_tables(snapshot: Snapshot) -> list[Table]:
    """Compute, Memory and (with --fit) Fit, each n/a with its reason when not measured; none
    for a checkpoint reported on its own."""
    if snapshot.kind != "model":
        return []
    compute, memory = snapshot.compute, snapshot.memory
    # under netscope run the figures are of one of the script's steps: no example step ran
    step = EXAMPLE_STEP if snapshot.forward.ran or compute is None else OBSERVED_STEP
    tables = [compute_table(compute, step)]
    if compute is not None:
        tables.append(top_flops_table(snapshot, compute))
    tables.append(memory_table(memory, step))
    if memory is not None and memory.activations_bytes is not None:
        tables.append(top_saved_table(snapshot, memory))
    if snapshot.fit is not None:
        tables.append(fit_table(snapshot.fit))
    return tables
