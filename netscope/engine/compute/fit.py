"""``--fit DEVICE``: will the step fit, by how much, and the largest batch that does.

The need is the step's peak estimated on meta (the step as asked: inference, or --train with its
optimizer). The largest batch comes from the peak at the example's batch and at twice it, then
checked: the estimate at the batch found is computed again and stepped down until it fits, so
a memory that does not grow linearly with the batch is not taken on trust. A layout beyond one
GPU's plain step (``8xH100``, ``--shard``, ``--checkpoint``, mixed precision, a budget) is
planned by netscope/engine/plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from netscope.engine.compute.devices import CONTEXT_BYTES, capacity, is_size
from netscope.engine.compute.meta_step import batch_size, meta_model, step_peak
from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import FitVerdict
from netscope.engine.plan.layout import DTYPE_PRECISION

MAX_CHECKS = 16  # meta estimates of the step at other batch sizes
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
    label, total = capacity(options.fit)
    context = 0 if is_size(options.fit) else CONTEXT_BYTES  # a size is a budget
    usable = total - context
    step = f"train ({options.optimizer if loaded.optimizer_fn is None else 'optimizer()'})"
    step = step if options.train else "inference"
    try:
        model = meta_model(loaded.model)
    except Exception as exc:  # a model deepcopy cannot copy
        raise NetscopeError(
            f"--fit: the model could not be copied onto meta ({type(exc).__name__}: {exc})",
            path=loaded.path,
            hint="build it with --device meta to estimate the step there",
        ) from exc
    batch = batch_size(call)
    b = batch or 1
    needed = step_peak(loaded, model, call, b, b)
    max_batch, note = largest_batch(
        batch, needed, lambda new: step_peak(loaded, model, call, b, new), usable
    )
    if context == 0:
        note = "; ".join(
            n for n in (note, f"{label} is a size: a budget, no context allowance") if n
        )
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


def largest_batch(
    batch: int | None, needed: int, estimate: Callable[[int], int], usable: int
) -> tuple[int | None, str]:
    """(largest batch that fits, why not available): from the peak at the example's batch and
    twice it. A step that fails at another batch (a loss() with fixed-size labels) stops the
    search: the verdict at the example's batch stands."""
    if batch is None:
        return None, "no tensor argument with a batch dimension: largest batch not available"
    at = {batch: needed}
    if batch == 1 and needed > usable:
        return 0, ""  # not even one sample fits
    try:
        at[2 * batch] = estimate(2 * batch)
        per_sample = (at[2 * batch] - at[batch]) / batch
        if per_sample <= 0:
            return (
                None,
                "the step's memory does not grow with the batch: largest batch not available",
            )
        return _largest(estimate, batch, at, per_sample, usable), ""
    except Exception as exc:  # the step cannot run at another batch size
        return None, (
            f"largest batch not available: the step failed at another batch size "
            f"({type(exc).__name__}: {str(exc)[:160]})"
        )


def _largest(
    estimate: Callable[[int], int], b: int, at: dict[int, int], per_sample: float, usable: int
) -> int:
    """The linear guess, then checked: each guess is estimated on meta; one over the capacity
    becomes the upper bound and the next guess comes from the line through the measured points
    (a step whose peak moves from the optimizer to the activations bends), bisected at the end."""
    if at[b] > usable:
        low, high = 0, b
    else:
        low, high = b, None
    fixed = at[b] - per_sample * b
    guess = max(int((usable - fixed) // per_sample), low + 1)
    for _ in range(MAX_CHECKS):
        if high is not None and guess >= high:
            guess = (low + high) // 2
        if guess <= low:
            break
        if guess not in at:
            at[guess] = estimate(guess)
        if at[guess] <= usable:
            low = guess
            if high is None:
                return guess  # the linear guess fits: the peak grows no faster than the line
            guess = (low + high) // 2
            continue
        high = guess
        slope = (at[guess] - at[low]) / (guess - low) if low and guess > low else per_sample
        guess = low + int((usable - at.get(low, 0)) // slope) if low and slope > 0 else guess // 2
    return low
