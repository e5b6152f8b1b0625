"""A block's own ("self") figures: what the ops it ran itself, outside its child blocks, count.

Computed once when the snapshot is built (``BlockInfo.self_forward_flops`` and the rest); the
app, the reports and ``netscope check`` read them and rank blocks by them here. No torch import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from netscope.engine.model import BlockInfo, Snapshot


def own_figures(
    inclusive: Mapping[str, int | None] | None,
    children: Mapping[str, Sequence[str]],
    aliases: Mapping[str, Sequence[str]],
) -> dict[str, int | None] | None:
    """Each block's inclusive figure less each child module's, once per module object
    (``aliases``: a path's other paths of the same module). The engine adds an op to every
    block on the stack, so this is exact when the children run only inside the block (a block
    reused under two paths has its children under both: the same parent); a child also
    registered under another parent module may run elsewhere, and then (or when the rest would be
    negative) the block's own figure is not known: None. A leaf's own figure is its figure."""
    if inclusive is None:
        return None
    if not aliases:  # no module under two paths (most models): one subtraction per block
        return {
            path: _rest(total, inclusive, children.get(path)) for path, total in inclusive.items()
        }
    return {
        path: _own(path, total, inclusive, children, aliases) for path, total in inclusive.items()
    }


def _rest(
    total: int | None, inclusive: Mapping[str, int | None], kids: Sequence[str] | None
) -> int | None:
    if not kids or total is None:
        return total
    below = [inclusive[kid] for kid in kids]
    if None in below:
        return None
    rest = total - sum(below)  # type: ignore[arg-type]  # no None: checked above
    return rest if rest >= 0 else None


def _own(
    path: str,
    total: int | None,
    inclusive: Mapping[str, int | None],
    children: Mapping[str, Sequence[str]],
    aliases: Mapping[str, Sequence[str]],
) -> int | None:
    counted: set[str] = set()
    parents = set(aliases.get(path, (path,)))  # this module's own paths: a reused parent's
    for child in children.get(path, ()):
        if child in counted:
            continue
        others = aliases.get(child, ())
        counted.update(others)
        if any(other.rpartition(".")[0] not in parents for other in others):
            return None  # the same module under another parent: it may run in that one
        below = inclusive[child]
        if total is None or below is None:
            return None
        total -= below
    return total if total is None or total >= 0 else None


def with_self_figures(blocks: Sequence[BlockInfo]) -> tuple[BlockInfo, ...]:
    """``blocks`` with their own figures filled in from their inclusive ones: for blocks built
    by hand (the snapshot's builder computes them as it builds)."""
    children = {b.path: b.children for b in blocks}
    aliases = {b.path: (b.path, *b.aliases) for b in blocks if b.aliases}

    def figures(read: Callable[[BlockInfo], int | None]) -> dict[str, int | None]:
        return own_figures({b.path: read(b) for b in blocks}, children, aliases) or {}

    forward = figures(lambda b: b.forward_flops)
    backward = figures(lambda b: b.backward_flops)
    saved = figures(lambda b: b.saved_bytes)
    return tuple(
        replace(
            b,
            self_forward_flops=forward[b.path],
            self_backward_flops=backward[b.path],
            self_saved_bytes=saved[b.path],
        )
        for b in blocks
    )


def self_step_flops(block: BlockInfo) -> int | None:
    """The block's own FLOPs of the step: forward plus backward where a backward ran."""
    if block.self_forward_flops is None:
        return None
    if block.backward_flops is None:
        return block.self_forward_flops
    if block.self_backward_flops is None:
        return None
    return block.self_forward_flops + block.self_backward_flops


def self_saved_bytes(block: BlockInfo) -> int | None:
    return block.self_saved_bytes


def top_blocks(
    snapshot: Snapshot, figure: Callable[[BlockInfo], int | None], limit: int | None = None
) -> list[tuple[BlockInfo, int]]:
    """The blocks whose own ``figure`` is largest, largest first, ties in tree order; a block
    reused under several paths is listed once (its first path), zeros and n/a not at all."""
    ranked = sorted(
        (
            (-amount, index, block)
            for index, block in enumerate(snapshot.blocks)
            if (amount := figure(block) or 0) > 0
        ),
        key=lambda item: item[:2],
    )
    listed: list[tuple[BlockInfo, int]] = []
    seen: set[str] = set()
    for amount, _, block in ranked:
        if block.path in seen:
            continue
        seen.update((block.path, *block.aliases))
        listed.append((block, -amount))
        if len(listed) == limit:
            break
    return listed
