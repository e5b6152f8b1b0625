"""``--checkpoint auto``: the blocks to checkpoint so the step fits, with the least recomputed
forward FLOPs per byte of saved activations freed, each choice checked by a replay; and the
choice as code to paste."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netscope.engine.plan.units import repeated_blocks

Figures = Mapping[str, tuple[int | None, int | None]]  # path: (forward FLOPs, saved bytes)


def auto_checkpoint(
    planner: Any, devices: int, usable: int, blocks: Figures, units: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    """(blocks chosen, what was decided). Candidates are the FSDP units or the repeated
    blocks, cheapest recompute per saved byte first; the fewest of them that fit, by bisection
    over how many are taken (each count replayed)."""
    candidates = list(units) or repeated_blocks(planner.model)
    if not candidates:
        return (), "--checkpoint auto: no repeated block to checkpoint"

    def cost(path: str) -> float:
        flops, saved = blocks.get(path, (None, None))
        return (flops or 0) / saved if saved else float("inf")

    ordered = sorted(candidates, key=cost)
    fits: dict[int, bool] = {}

    def fit(k: int) -> bool:
        if k not in fits:
            fits[k] = planner.estimate(devices, tuple(ordered[:k])).peak_bytes <= usable
        return fits[k]

    if fit(0):
        return (), "--checkpoint auto: the step fits without checkpointing"
    if not fit(len(ordered)):
        return tuple(ordered), "--checkpoint auto: does not fit even with every block checkpointed"
    low, high = 0, len(ordered)  # low does not fit, high does
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fit(mid) else (mid, high)
    chosen = tuple(sorted(ordered[:high], key=candidates.index))
    return chosen, f"--checkpoint auto: {len(chosen)} of {len(ordered)} blocks checkpointed"


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
