"""Blocks matched across two reports: by path first, then by structure (the same class with the
same parameter shapes under a renamed path: "moved"; the moved block's children follow it),
and each matched block's deltas of parameters, FLOPs, saved activations and time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netscope.engine.diff.model import BlockDiff, Change, Status, TimeChange
from netscope.engine.diff.noise import scaled_change
from netscope.engine.diff.side import Side

Signature = tuple[Any, ...]


def _signature(module: dict[str, Any], shapes: dict[str, Any]) -> Signature:
    return (module.get("type"), module.get("total_params"), shapes.get(module["path"], ()))


def match_blocks(before: Side, after: Side) -> dict[str, str]:
    """B path -> A path for every block found in both (equal paths, then moved ones)."""
    a_mods, b_mods = before.modules(), after.modules()
    pairs = {path: path for path in b_mods if path in a_mods}
    taken = set(pairs)  # A paths already matched
    a_shapes, b_shapes = before.own_shapes(), after.own_shapes()
    by_signature: dict[Signature, list[str]] = {}
    for path in a_mods:
        if path not in taken:
            by_signature.setdefault(_signature(a_mods[path], a_shapes), []).append(path)
    b_free = [p for p in b_mods if p not in pairs]
    for path in b_free:  # pre-order: a parent moves before its children
        if path in pairs or not path:
            continue
        candidates = [p for p in by_signature.get(_signature(b_mods[path], b_shapes), [])
                      if p not in taken]  # fmt: skip
        if not candidates:
            continue
        old = candidates[0]
        pairs[path] = old
        taken.add(old)
        for child in b_free:  # the moved block's subtree keeps its relative paths
            if child.startswith(path + ".") and child not in pairs:
                old_child = old + child[len(path) :]
                if old_child in a_mods and old_child not in taken:
                    pairs[child] = old_child
                    taken.add(old_child)
    return pairs


def _figure(module: dict[str, Any] | None, name: str) -> float | None:
    if module is None:
        return None
    value = module.get(name)
    return None if value is None else float(value)


def _whole(before: Side, after: Side, name: str) -> float:
    """The root's figure, the larger of the two reports: what a block's change is a share of."""
    values = [_figure(side.modules().get(""), name) for side in (before, after)]
    return max((v for v in values if v), default=0.0)


class _Context:
    """What every block's diff needs, read once."""

    def __init__(self, before: Side, after: Side) -> None:
        self.a_mods, self.b_mods = before.modules(), after.modules()
        self.a_times, self.b_times = before.block_times(), after.block_times()
        self.a_spreads, self.b_spreads = before.spreads(), after.spreads()
        # a device timed in one report only has no change to show
        self.devices = sorted({d for _, d in self.a_times} & {d for _, d in self.b_times})
        self.whole = {
            name: _whole(before, after, name)
            for name in ("total_params", "forward_flops", "backward_flops", "saved_bytes")
        }
        root_times = [t for (p, _), t in {**self.a_times, **self.b_times}.items() if p == ""]
        self.whole_ms = max(root_times, default=0.0)


def _times(ctx: _Context, a_path: str | None, b_path: str | None) -> tuple[TimeChange, ...]:
    changes = []
    for device in ctx.devices:
        before = None if a_path is None else ctx.a_times.get((a_path, device))
        after = None if b_path is None else ctx.b_times.get((b_path, device))
        if before is None and after is None:
            continue
        changes.append(scaled_change(device, before, after, ctx.a_spreads.get(device),
                                     ctx.b_spreads.get(device)))  # fmt: skip
    return tuple(changes)


def _share(change: Change, whole: float) -> float:
    """|after - before| over the whole model's figure; a side without the block counts 0 here."""
    if not whole:
        return 0.0
    return abs((change.after or 0.0) - (change.before or 0.0)) / whole


def block_diff(ctx: _Context, a_path: str | None, b_path: str | None) -> BlockDiff:
    a = None if a_path is None else ctx.a_mods[a_path]
    b = None if b_path is None else ctx.b_mods[b_path]
    figures = {
        name: Change(_figure(a, name), _figure(b, name))
        for name in ("total_params", "forward_flops", "backward_flops", "saved_bytes")
    }
    times = _times(ctx, a_path, b_path)
    impact = max(_share(change, ctx.whole[name]) for name, change in figures.items())
    real_times = [t for t in times if t.verdict in ("slower", "faster")]
    for t in real_times:
        impact = max(impact, _share(t.change, ctx.whole_ms))
    status: Status
    if a is None:
        status = "added"
    elif b is None:
        status = "removed"
    elif a_path != b_path:
        status = "moved"
    elif a.get("type") != b.get("type") or any(c.changed for c in figures.values()) or real_times:
        status = "changed"
    else:
        status = "same"
    kind = (b or a or {}).get("type", "")
    path = b_path if b_path is not None else a_path or ""
    return BlockDiff(path, a_path, str(kind), status, figures["total_params"],
                     figures["forward_flops"], figures["backward_flops"],
                     figures["saved_bytes"], times, impact)  # fmt: skip


def diff_blocks(before: Side, after: Side) -> tuple[BlockDiff, ...]:
    """Every block of both reports: changed ones first by impact (then shallower first), then the
    unchanged ones in B's tree order."""
    ctx = _Context(before, after)
    pairs = match_blocks(before, after)
    matched_a = set(pairs.values())
    rows = [block_diff(ctx, pairs.get(path), path) for path in ctx.b_mods]
    rows += [block_diff(ctx, path, None) for path in ctx.a_mods if path not in matched_a]
    rows = [replace(row, position=at) for at, row in enumerate(rows)]
    moved = [r for r in rows if r.status != "same"]
    moved.sort(key=lambda r: (-r.impact, r.depth, r.path))
    return (*moved, *(r for r in rows if r.status == "same"))
