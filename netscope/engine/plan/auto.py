"""``--checkpoint auto``: the blocks to checkpoint so the step fits, with the least recomputed
forward FLOPs per byte of saved activations freed, each choice checked by a replay; and the
choice as code to paste."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from netscope.engine.plan.units import repeated_blocks
from netscope.units import size

Figures = Mapping[str, tuple[int | None, int | None]]  # path: (forward FLOPs, saved bytes)


def auto_checkpoint(
    planner: Any, devices: int, usable: int, blocks: Figures, units: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    """(blocks chosen, what was decided). Candidates are the FSDP units or the repeated
    blocks, cheapest recompute per saved byte first; the fewest of them that fit (each count
    replayed), searched from where the peaks of none and all checkpointed put it."""
    candidates = list(units) or repeated_blocks(planner.model)
    if not candidates:
        return (), "--checkpoint auto: no repeated block to checkpoint"

    def cost(path: str) -> float:
        flops, saved = blocks.get(path, (None, None))
        return (flops or 0) / saved if saved else float("inf")

    ordered = sorted(candidates, key=cost)
    peaks: dict[int, int] = {}

    def peak(k: int) -> int:
        if k not in peaks:
            peaks[k] = planner.estimate(devices, tuple(ordered[:k])).peak_bytes
        return peaks[k]

    if peak(0) <= usable:
        return (), "--checkpoint auto: the step fits without checkpointing"
    if peak(len(ordered)) > usable:
        at = planner.estimate(devices, tuple(ordered)).peak_at
        return tuple(ordered), (
            "--checkpoint auto: checkpointing cannot make the step fit: with every block "
            f"checkpointed it still needs {size(peaks[len(ordered)])} (peak at {at}), so no "
            "code is offered; shard more, add GPUs or lower the precision"
        )
    count = fewest_that_fit(peak, usable, len(ordered))
    chosen = tuple(sorted(ordered[:count], key=candidates.index))
    return chosen, f"--checkpoint auto: {len(chosen)} of {len(ordered)} blocks checkpointed"


def fewest_that_fit(peak: Callable[[int], int], usable: int, n: int) -> int:
    """The smallest k in 1..n with ``peak(k) <= usable``, given that 0 does not fit, n does and
    the peak falls as k grows (the answer plain bisection gives), in fewer replays: each next k
    is where the straight line between the bracket's two peaks meets ``usable`` (exact when each
    checkpointed block frees the same bytes: then the answer and its neighbour, two replays).
    A step that did not halve the bracket is followed by a halving one, so a curved peak costs
    at most about twice bisection's replays."""
    low, high = 0, n  # low does not fit, high does
    interpolate = True
    while high - low > 1:
        width = high - low
        k = (low + high) // 2
        above, below = peak(low), peak(high)
        if interpolate and above > below:
            k = low + math.ceil(width * (above - usable) / (above - below))
        k = min(high - 1, max(low + 1, k))
        if peak(k) <= usable:
            high = k
        else:
            low = k
        interpolate = not interpolate or 2 * (high - low) <= width
    return high


def checkpoint_code(paths: tuple[str, ...]) -> str:
    """The choice as an ``apply_activation_checkpointing`` call (non-reentrant wrapper)."""
    listed = ", ".join(repr(p) for p in paths)
    return (
        "from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (\n"
        "    apply_activation_checkpointing, checkpoint_wrapper)\n\n"
        f"CHECKPOINTED = {{{listed}}}\n"
        "chosen = [m for path, m in model.named_modules() if path in CHECKPOINTED]\n"
        "apply_activation_checkpointing(\n"
        "    model, checkpoint_wrapper_fn=checkpoint_wrapper,\n"
        "    check_fn=lambda m: any(m is c for c in chosen))\n"
    )
