"""The details pane's compute and memory facts: a block's FLOPs and saved activations, and at
the root the step's FLOPs, memory breakdown and fit verdict. Figures come from the snapshot as
the engine counted them; a figure it did not count reads n/a (or computing…), never 0."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from netscope.app import format as fmt
from netscope.app.facts import Facts
from netscope.app.tree_index import TreeIndex
from netscope.engine.model import BlockInfo, Compute, FitVerdict, Memory
from netscope.engine.plan.describe import devices_label, layout_label, per_device_parts

COMPUTING = "computing…"
UNCOUNTED_SHOWN = 5  # ops without a FLOP formula named at the root, by count
NO_FORMULA = (
    "no op with a FLOP formula (matmul, convolution, attention) ran in it; elementwise ops have "
    "none and are listed as uncounted at the root"
)


def _missing(index: TreeIndex, why: str) -> str:
    """A figure the engine did not count: why, or that the forward is still running."""
    return f"{fmt.NA} ({why})" if index.complete else COMPUTING


def _with_macs(flops: int) -> str:
    return f"{fmt.flops(flops)} · {fmt.macs(flops)}"


def block_rows(block: BlockInfo, index: TreeIndex) -> list[tuple[str, str]]:
    """FLOPs (forward, backward, share of the step, MACs) and saved activations of one block."""
    snapshot = index.snapshot
    compute, memory = snapshot.compute, snapshot.memory
    rows: list[tuple[str, str]] = []
    forward, backward = block.forward_flops, block.backward_flops
    if forward is None:
        rows.append(("FLOPs", _missing(index, "no example forward ran")))
    else:
        step = forward + (backward or 0)
        of = f" of the step's {fmt.flops(compute.step_flops)}" if compute is not None else ""
        share = fmt.share(step, compute.step_flops if compute is not None else None)
        only = " (forward only)" if backward is None else ""
        if step == 0 and compute is not None and compute.uncounted_ops:
            # a norm or an activation: its ops (mul, pow, rsqrt...) have no formula, so 0 is
            # what is counted, not what it computes
            rows.append(("FLOPs", f"0 counted: {NO_FORMULA}"))
        else:
            rows.append(("FLOPs", f"{fmt.flops(step)}{only}, {share}{of}"))
        rows.append(("forward", _with_macs(forward)))
        rows.append(
            ("backward", _with_macs(backward) if backward is not None else _no_backward(index))
        )
    saved = block.saved_bytes
    if saved is None:
        rows.append(("saved", _missing(index, _why_not_saved(index))))
    else:
        total = memory.activations_bytes if memory is not None else None
        share = f", {fmt.share(saved, total)} of the step's {fmt.size(total)}" if total else ""
        rows.append(("saved", f"{fmt.size(saved)} of activations for backward{share}"))
    return rows


def forward_ran(index: TreeIndex) -> bool:
    forward = index.snapshot.forward
    return forward is not None and forward.ran


def _why_not_saved(index: TreeIndex) -> str:
    return "the forward ran without grad" if forward_ran(index) else "no example forward ran"


def _no_backward(index: TreeIndex) -> str:
    note = index.snapshot.forward.note if index.snapshot.forward is not None else ""
    return _missing(index, f"no backward ran{'; ' + note if note else ''}")


def fit_summary(fit: FitVerdict) -> str:
    """The verdict in a few words, for the line under the header: ``fits L4 (1.2 GiB of
    22.0 GiB)`` or ``does NOT fit H100 (short by 3.1 GiB)``."""
    if fit.fits:
        need, usable = fmt.size(fit.needed_bytes), fmt.size(fit.capacity_bytes)
        return f"fits {devices_label(fit)} ({need} of {usable})"
    return f"does NOT fit {devices_label(fit)} (short by {fmt.size(-fit.margin_bytes)})"


def step_parts(index: TreeIndex) -> list[RenderableType]:
    """The root's sections: with --fit the verdict first (where it is seen without scrolling),
    then the step's compute and its memory."""
    snapshot = index.snapshot
    parts: list[RenderableType] = []
    if snapshot.fit is not None:
        parts += [_title(f"fit on {devices_label(snapshot.fit)}"), Facts(_fit_rows(snapshot.fit))]
    if snapshot.compute is not None:
        parts += [_title("step compute"), Facts(_compute_rows(snapshot.compute))]
    if snapshot.memory is not None:
        memory = snapshot.memory
        parts += [
            _title(f"step memory on {memory.device}"),
            Facts(_memory_rows(memory)),
        ]
    return parts


def _title(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def _compute_rows(compute: Compute) -> list[tuple[str, str]]:
    backward = compute.backward_flops
    rows = [
        ("FLOPs", _with_macs(compute.step_flops)),
        ("forward", _with_macs(compute.forward_flops)),
        ("backward", _with_macs(backward) if backward is not None else f"{fmt.NA} (no backward)"),
        (
            "attention",
            f"{compute.attention} (scaled_dot_product_attention)"
            if compute.attention is not None
            else "none (no scaled_dot_product_attention call)",
        ),
    ]
    ops = sorted(compute.uncounted_ops, key=lambda op: -op.count)
    if ops:
        named = ", ".join(f"{op.op} ×{op.count:,}" for op in ops[:UNCOUNTED_SHOWN])
        more = f" and {len(ops) - UNCOUNTED_SHOWN} more" if len(ops) > UNCOUNTED_SHOWN else ""
        rows.append(("not counted", f"{named}{more} (no FLOP formula: elementwise, norms…)"))
    return rows


def _memory_rows(memory: Memory) -> list[tuple[str, str]]:
    optimizer = memory.optimizer_bytes
    rows = [
        ("params", fmt.size(memory.params_bytes)),
        ("buffers", fmt.size(memory.buffers_bytes)),
        (
            "grads",
            fmt.size(memory.grads_bytes)
            if memory.grads_bytes is not None
            else f"{fmt.NA} (no backward)",
        ),
        (
            "optimizer",
            f"{fmt.size(optimizer)}{f' ({memory.optimizer})' if memory.optimizer else ''}"
            if optimizer is not None
            else f"{fmt.NA} (no optimizer step: --train)",
        ),
        (
            "saved acts",
            fmt.size(memory.activations_bytes)
            if memory.activations_bytes is not None
            else f"{fmt.NA} (forward without grad)",
        ),
        (
            "peak",
            f"{fmt.size(memory.peak_bytes)} at {memory.peak_at or fmt.NA}, {memory.how}"
            if memory.peak_bytes is not None
            else fmt.NA,
        ),
    ]
    if memory.replay_peak_bytes is not None:
        replay = fmt.size(memory.replay_peak_bytes)
        rows.append(("replay", f"{replay}: the step replayed on meta (what --fit rests on)"))
        if memory.replay_differs:
            rows.append(("differs", memory.replay_differs))
    if memory.note:
        rows.append(("note", memory.note))
    return rows


def _fit_rows(fit: FitVerdict) -> list[tuple[str, str]]:
    margin = fit.margin_bytes
    verdict = "yes" if fit.fits else "NO"
    spare = f"{fmt.size(margin)} to spare" if margin >= 0 else f"short by {fmt.size(-margin)}"
    batch = str(fit.max_batch) if fit.max_batch is not None else fmt.NA
    if fit.batch is not None:
        batch += f" (the example's: {fit.batch})"
    rows = [
        ("fits", f"{verdict}: {spare}"),
        ("step", fit.step),
        ("needs", fmt.size(fit.needed_bytes)),
        (
            "usable",
            f"{fmt.size(fit.capacity_bytes)} (after {fmt.size(fit.context_bytes)} for the "
            "CUDA context)",
        ),
        ("max batch", batch),
    ]
    if not fit.context_bytes:
        rows[3] = ("usable", f"{fmt.size(fit.capacity_bytes)} (a budget: no context allowance)")
    if fit.per_device is not None:
        least = fmt.NA if fit.min_devices is None else str(fit.min_devices)
        rows[2] = ("needs", f"{fmt.size(fit.needed_bytes)} per GPU")
        rows += [("layout", layout_label(fit)), ("fewest GPUs", least)]
        rows += [(name, fmt.size(value)) for name, value in per_device_parts(fit)]
        rows.append(("peak at", fit.per_device.peak_at))
        if fit.checkpoint:
            rows.append(("checkpointed", ", ".join(fit.checkpoint)))
    if fit.note:
        rows.append(("note", fit.note))
    return rows
