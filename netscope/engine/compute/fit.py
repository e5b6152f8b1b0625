"""``--fit DEVICE``: will the step fit, by how much, and the largest batch that does.

The need is the step's peak estimated on meta (the step as asked: inference, or --train with its
optimizer). The largest batch comes from the peak at the example's batch and at twice it, then
checked: the estimate at the batch found is computed again and stepped down until it fits, so
a memory that does not grow linearly with the batch is not taken on trust. A layout beyond one
GPU's plain step (``8xH100``, ``--shard``, ``--checkpoint``, mixed precision, a budget) is
planned by netscope/engine/plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from netscope.engine.compute.devices import size_note, usable_capacity
from netscope.engine.compute.fit_search import largest_batch, meta_copy
from netscope.engine.compute.meta_step import batch_size, step_peak
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import FitVerdict
from netscope.engine.plan.layout import DTYPE_PRECISION

BlockFigures = Mapping[str, tuple[int | None, int | None]]  # path: (forward FLOPs, saved bytes)


def fit_verdict(
    loaded: LoadedTarget, call: ExampleInput | None, blocks: BlockFigures | None = None
) -> FitVerdict | None:
    """The fit of ``--fit`` / ``--memory-budget``; ``blocks`` (the snapshot's per-block forward
    FLOPs and saved bytes) serve a planned layout's recomputed FLOPs and automatic choice."""
    options = loaded.options
    if options.planned:
        from netscope.engine.plan.verdict import plan_verdict

        return plan_verdict(loaded, call, blocks)
    if options.fit is None or loaded.model is None or call is None:
        return None
    label, usable, context = usable_capacity(options.fit)
    step = f"train ({options.optimizer if loaded.optimizer_fn is None else 'optimizer()'})"
    step = step if options.train else "inference"
    model = meta_copy(loaded)
    batch = batch_size(call)
    b = batch or 1
    needed = step_peak(loaded, model, call, b, b)
    max_batch, note = largest_batch(
        batch, needed, lambda new: step_peak(loaded, model, call, b, new), usable
    )
    if context == 0:
        note = "; ".join(n for n in (note, size_note(label)) if n)
    return FitVerdict(
        device=label,
        capacity_bytes=usable,
        needed_bytes=needed,
        fits=needed <= usable,
        margin_bytes=usable - needed,
        max_batch=max_batch,
        step=step,
        context_bytes=context,
        batch=batch,
        note=note,
        precision=DTYPE_PRECISION.get(options.dtype or "float32", "fp32"),
    )
