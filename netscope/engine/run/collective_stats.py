"""A rank's collectives per step, from its per-step tallies, and what they say about the run.

Medians over the same plain steps as ``step_ms`` (a step without a kind counts 0 for it), so the
first step's one-time work (FSDP's lazy init) and the sampled steps do not move them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from netscope.engine.model import CollectiveStat, RankRun
from netscope.engine.run.aggregate import median
from netscope.engine.run.rank_messages import CollectiveRecord

StepKey = tuple[str, int]  # (boundary, step index)
CollectiveKey = tuple[str, str, str | None]  # (kind, via, block)
Tally = tuple[int, float, float | None, int]  # (calls, ms, exposed ms, bytes)

EXPOSED_SHARE = 0.5  # an all-gather exposed for at least this share of its time...
EXPOSED_MIN_MS = 0.05  # ...and at least this long, every plain step: a finding


def by_step(records: Iterable[CollectiveRecord]) -> dict[StepKey, dict[CollectiveKey, Tally]]:
    steps: dict[StepKey, dict[CollectiveKey, Tally]] = {}
    for boundary, index, kind, via, block, calls, ms, exposed, size in records:
        steps.setdefault((boundary, index), {})[(kind, via, block)] = (calls, ms, exposed, size)
    return steps


def collective_stats(
    steps: dict[StepKey, dict[CollectiveKey, Tally]], plain: Sequence[StepKey]
) -> tuple[CollectiveStat, ...]:
    """Per (kind, via, block): medians over ``plain`` steps, by via, kind and block."""
    measured = [steps.get(key, {}) for key in plain]
    if not measured:
        return ()
    keys = sorted({k for step in measured for k in step}, key=lambda k: (k[1], k[0], k[2] or ""))
    out = []
    for key in keys:
        rows = [step.get(key, (0, 0.0, 0.0, 0)) for step in measured]
        exposed = [r[2] for r in rows]
        known = [e for e in exposed if e is not None]
        kind, via, block = key
        out.append(
            CollectiveStat(
                kind=kind,
                via=via,
                block=block,
                calls_per_step=median([float(r[0]) for r in rows]),
                ms_per_step=median([r[1] for r in rows]),
                exposed_ms_per_step=median(known) if len(known) == len(exposed) else None,
                bytes_per_step=round(median([float(r[3]) for r in rows])),
                exposed_steps=sum(1 for e in known if e >= EXPOSED_MIN_MS),
                steps=len(rows),
            )
        )
    return tuple(out)


def exposed_all_gather_notes(ranks: Sequence[RankRun]) -> list[str]:
    """An FSDP unit whose all-gather blocked the rank on every plain step, on every rank."""
    notes = []
    first = ranks[0].collectives if ranks else ()
    for stat in first:
        if stat.via != "fsdp" or stat.kind != "all_gather" or stat.block is None:
            continue
        same = [_match(r.collectives, stat) for r in ranks]
        if not all(s is not None and _exposed_every_step(s) for s in same):
            continue
        unit = stat.block or "the root"
        worst = max(same, key=lambda s: s.exposed_ms_per_step or 0.0)  # type: ignore[union-attr]
        assert worst is not None
        notes.append(
            f"FSDP unit {unit}: its all-gather blocked every step on every rank "
            f"({worst.exposed_ms_per_step:.2f} of {worst.ms_per_step:.2f} ms per step, "
            f"{worst.calls_per_step:g} per step): prefetch it (set_modules_to_forward_prefetch "
            "/ set_modules_to_backward_prefetch, or unshard() ahead), or keep it unsharded "
            "between forward and backward (reshard_after_forward=False) to skip the backward "
            "re-gather"
        )
    return notes


def _match(stats: Sequence[CollectiveStat], like: CollectiveStat) -> CollectiveStat | None:
    for stat in stats:
        if (stat.kind, stat.via, stat.block) == (like.kind, like.via, like.block):
            return stat
    return None


def _exposed_every_step(stat: CollectiveStat) -> bool:
    exposed = stat.exposed_ms_per_step
    return (
        exposed is not None
        and stat.steps > 0
        and stat.exposed_steps == stat.steps
        and exposed >= EXPOSED_SHARE * stat.ms_per_step
    )
