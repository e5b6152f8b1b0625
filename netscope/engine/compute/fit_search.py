"""The steps every fit verdict shares: the model's meta copy and the largest-batch search (the
one-GPU fit of compute/fit.py and the planned layouts of engine/plan both use them)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from netscope.engine.compute.meta_step import meta_model
from netscope.engine.errors import NetscopeError
from netscope.engine.load.loaded import LoadedTarget

MAX_CHECKS = 16  # meta estimates of the step at other batch sizes


def meta_copy(loaded: LoadedTarget) -> nn.Module:
    """The model on meta (itself when it is there already): shapes, no weights."""
    assert loaded.model is not None
    try:
        return meta_model(loaded.model)
    except Exception as exc:  # a model deepcopy cannot copy
        raise NetscopeError(
            f"--fit: the model could not be copied onto meta ({type(exc).__name__}: {exc})",
            path=loaded.path,
            hint="build it with --device meta to estimate the step there",
        ) from exc


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
