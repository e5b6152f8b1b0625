"""``--fit DEVICE``: will the step fit, by how much, and the largest batch that does.

The need is the step's peak estimated on meta (the step as asked: inference, or --train with its
optimizer). The largest batch comes from the peak at the example's batch and at twice it, then
checked: the estimate at the batch found is computed again and stepped down until it fits, so
a memory that does not grow linearly with the batch is not taken on trust.
"""

from __future__ import annotations

from netscope.engine.compute.devices import CONTEXT_BYTES, capacity
from netscope.engine.compute.meta_step import batch_size, meta_model, step_peak
from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import FitVerdict

MAX_CHECKS = 16  # meta estimates of the step at other batch sizes


def fit_verdict(loaded: LoadedTarget, call: ExampleInput | None) -> FitVerdict | None:
    options = loaded.options
    if options.fit is None or loaded.model is None or call is None:
        return None
    label, total = capacity(options.fit)
    usable = total - CONTEXT_BYTES
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
    at = {}
    b = batch or 1
    at[b] = step_peak(loaded, model, call, b, b)
    needed = at[b]
    max_batch, note = None, ""
    if batch is None:
        note = "no tensor argument with a batch dimension: largest batch not available"
    else:
        at[2 * b] = step_peak(loaded, model, call, b, 2 * b)
        per_sample = (at[2 * b] - at[b]) / b
        if per_sample <= 0:
            note = "the step's memory does not grow with the batch: largest batch not available"
        else:
            max_batch = _largest(loaded, model, call, b, at, per_sample, usable)
    return FitVerdict(
        device=label,
        capacity_bytes=usable,
        needed_bytes=needed,
        fits=needed <= usable,
        margin_bytes=usable - needed,
        max_batch=max_batch,
        step=step,
        context_bytes=CONTEXT_BYTES,
        batch=batch,
        note=note,
    )


def _largest(
    loaded: LoadedTarget,
    model: object,
    call: ExampleInput,
    b: int,
    at: dict[int, int],
    per_sample: float,
    usable: int,
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
            at[guess] = step_peak(loaded, model, call, b, guess)  # type: ignore[arg-type]
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
