"""A long stack of identical blocks replayed at three short lengths and extrapolated, where the
three replays show the step is exactly linear in the number of blocks.

Replaying Llama-3-70B's 80 decoder layers on fake tensors is ~180,000 dispatched ops (13-23 s a
replay); the plan replays each GPU count it weighs. Identical blocks (same classes, parameter
shapes and settings; the same units and checkpointed sub-blocks inside each) allocate the same
bytes: every figure of the step is then ``a + b * layers``. The step is replayed with the first
3, 4 and 5 blocks only (the later ones removed from their container in the fake copy); each
figure must grow by exactly the same number of bytes from 3 to 4 as from 4 to 5, and the step's
peak by at least as much a block as the activations and gradients do (the two per-block amounts
that move the peak's place along the step). Otherwise, or if the shortened model does not run,
the whole model is replayed. docs/compute.md says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from torch import nn

from netscope.engine.plan.replay import StepAsPlanned, StepRequest

LENGTHS = (3, 4, 5)  # the short replays: first, inner and last blocks all present
MIN_BLOCKS = 8  # fewer blocks: the whole model is replayed (no time to gain)
_INDEX_NAMES = ("idx", "index", "layer_id")  # a block's own position, not a setting
_LINEAR = tuple(f.name for f in fields(StepAsPlanned) if f.type == "int")


@dataclass(frozen=True)
class Run:
    """Identical blocks, consecutive children of one ModuleList/Sequential."""

    container: str  # its path ("" for the root)
    names: tuple[str, ...]  # the blocks' child names, in order

    def path(self, i: int) -> str:
        return f"{self.container}.{self.names[i]}" if self.container else self.names[i]

    def kept(self, paths: tuple[str, ...], keep: int) -> tuple[str, ...]:
        """``paths`` less those in the blocks removed when only ``keep`` are left."""
        gone = [self.path(i) for i in range(keep, len(self.names))]
        return tuple(p for p in paths if not any(p == g or p.startswith(f"{g}.") for g in gone))


def identical_run(
    model: nn.Module, units: tuple[str, ...], checkpoint: tuple[str, ...]
) -> Run | None:
    """The longest run of identical blocks ending a container (so the removal of its tail
    leaves every other name as it was), if the units and checkpointed blocks are the same
    inside each block; None when there is none of MIN_BLOCKS or more."""
    best: Run | None = None
    for path, module in model.named_modules():
        if not isinstance(module, (nn.ModuleList, nn.Sequential)):
            continue
        children = list(module.named_children())
        if len(children) < MIN_BLOCKS:
            continue
        last = _signature(children[-1][1])
        start = len(children) - 1
        while start > 0 and _signature(children[start - 1][1]) == last:
            start -= 1
        run = Run(path, tuple(name for name, _ in children[start:]))
        longer = best is None or len(run.names) > len(best.names)
        if len(run.names) >= MIN_BLOCKS and longer and _same_inside(run, units):
            best = run if _same_inside(run, checkpoint) else best
    return best


def _signature(block: nn.Module) -> tuple[Any, ...]:
    """What makes two blocks allocate alike: classes, parameter and buffer shapes, settings."""
    parts: list[Any] = []
    for path, module in block.named_modules():
        own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        tensors = [(n, tuple(t.shape), t.dtype, t.requires_grad) for n, t in own if t is not None]
        settings = sorted(
            (k, v)
            for k, v in vars(module).items()
            if not k.startswith("_")
            and isinstance(v, (int, float, str, bool, type(None)))
            and not any(word in k for word in _INDEX_NAMES)
        )
        parts.append((path, type(module), tuple(tensors), tuple(settings)))
    return tuple(parts)


def _same_inside(run: Run, paths: tuple[str, ...]) -> bool:
    """Whether ``paths`` name the same sub-blocks (relative paths) in every block of the run."""
    seen = set()
    for i in range(len(run.names)):
        block = run.path(i)
        seen.add(
            frozenset(p[len(block) :] for p in paths if p == block or p.startswith(f"{block}."))
        )
    return len(seen) == 1


def shortened(request: StepRequest, run: Run, keep: int) -> StepRequest:
    """The request with the run cut to its first ``keep`` blocks."""
    return replace(
        request,
        units=run.kept(request.units, keep),
        checkpoint=run.kept(request.checkpoint, keep),
        keep_blocks=(run.container, run.names[keep:]),
    )


def replay_repeated(
    request: StepRequest, replay: Callable[[StepRequest], StepAsPlanned]
) -> StepAsPlanned:
    """The step of ``request`` from three short replays where exactly linear, else in full."""
    run = identical_run(request.model, request.units, request.checkpoint)
    if run is None:
        return replay(request)
    try:
        steps = [replay(shortened(request, run, keep)) for keep in LENGTHS]
    except Exception:  # a forward that needs every block (indexes them by a count)
        return replay(request)
    whole = _extrapolated(steps, run, len(run.names))
    return whole if whole is not None else replay(request)


def _extrapolated(steps: list[StepAsPlanned], run: Run, blocks: int) -> StepAsPlanned | None:
    short = steps[0]
    slope: dict[str, int] = {}
    for name in _LINEAR:
        a, b, c = (getattr(s, name) for s in steps)
        if b - a != c - b:
            return None
        slope[name] = b - a
    if slope["forward_backward_peak"] < max(slope["activations_bytes"], slope["grads_bytes"]):
        return None  # the peak's place could move along the step at another length
    if len({s.no_grad_params for s in steps}) != 1:
        return None
    where = _moved(run, [s.peak_at for s in steps], blocks)
    if where is None:
        return None
    more = blocks - LENGTHS[0]
    values = {name: getattr(short, name) + more * slope[name] for name in _LINEAR}
    return replace(short, peak_at=where, **values)


def _moved(run: Run, places: list[str], blocks: int) -> str | None:
    """Where the peak is with ``blocks`` blocks: the same place at each short length, or the
    same place counted from the run's end (a block index one higher each time)."""
    if len(set(places)) == 1:
        return places[0]
    prefix = f"{run.container}." if run.container else ""
    pattern = re.compile(rf"^(.*\(){re.escape(prefix)}(\d+)(\b.*)$", re.S)
    found = [pattern.match(p) for p in places]
    if not all(found):
        return None
    heads = {m.group(1) for m in found if m}
    tails = {m.group(3) for m in found if m}
    index = [int(m.group(2)) for m in found if m]
    if len(heads) != 1 or len(tails) != 1 or [i - index[0] for i in index] != [0, 1, 2]:
        return None
    moved = index[0] + blocks - LENGTHS[0]
    return f"{heads.pop()}{prefix}{moved}{tails.pop()}"
