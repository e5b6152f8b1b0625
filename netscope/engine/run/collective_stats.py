"""A rank's collectives per step, from its per-step tallies, and what they say about the run.

Calls and bytes are medians over every step but the first (a step without a kind counts 0 for
it): the first step's one-time work (FSDP's lazy init) would move them, netscope's detectors do
not (they slow a step, they issue no collective). Times are medians over the plain steps (not
slowed by the detectors or counters) when there are ``MIN_TIMED`` of them, else over the same
steps as the calls; a short run's sampled burst can leave only one or two plain steps.
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
MIN_TIMED = 3  # fewer plain steps than this: times come from the counted steps


def by_step(records: Iterable[CollectiveRecord]) -> dict[StepKey, dict[CollectiveKey, Tally]]:
    steps: dict[StepKey, dict[CollectiveKey, Tally]] = {}
    for boundary, index, kind, via, block, calls, ms, exposed, size in records:
        steps.setdefault((boundary, index), {})[(kind, via, block)] = (calls, ms, exposed, size)
    return steps


def collective_stats(
    steps: dict[StepKey, dict[CollectiveKey, Tally]],
    counted: Sequence[StepKey],
    plain: Sequence[StepKey] = (),
) -> tuple[CollectiveStat, ...]:
    """Per (kind, via, block): calls and bytes over the ``counted`` steps, times over the
    ``plain`` ones (or the counted ones when fewer than MIN_TIMED), by via, kind and block."""
    measured = [steps.get(key, {}) for key in counted]
    if not measured:
        return ()
    timed = [steps.get(key, {}) for key in plain] if len(plain) >= MIN_TIMED else measured
    keys = sorted({k for step in measured for k in step}, key=lambda k: (k[1], k[0], k[2] or ""))
    out = []
    for key in keys:
        rows = [step.get(key, (0, 0.0, 0.0, 0)) for step in measured]
        times = [step.get(key, (0, 0.0, 0.0, 0)) for step in timed]
        exposed = [r[2] for r in times]
        known = [e for e in exposed if e is not None]
        told = len(known) == len(exposed)  # one step not told: the exposure is not available
        kind, via, block = key
        out.append(
            CollectiveStat(
                kind=kind,
                via=via,
                block=block,
                calls_per_step=median([float(r[0]) for r in rows]),
                ms_per_step=median([r[1] for r in times]),
                exposed_ms_per_step=median(known) if told else None,
                bytes_per_step=round(median([float(r[3]) for r in rows])),
                exposed_steps=sum(1 for e in known if e >= EXPOSED_MIN_MS) if told else None,
                steps=len(times),
            )
        )
    return tuple(out)


def exposed_all_gather_notes(ranks: Sequence[RankRun]) -> list[str]:
    """One note naming the FSDP units whose all-gather blocked every plain step on every rank."""
    units: list[tuple[str, CollectiveStat]] = []
    first = ranks[0].collectives if ranks else ()
    for stat in first:
        if stat.via != "fsdp" or stat.kind != "all_gather" or stat.block is None:
            continue
        same = [_match(r.collectives, stat) for r in ranks]
        found = [s for s in same if s is not None and _exposed_every_step(s)]
        if len(found) == len(ranks):
            worst = max(found, key=lambda s: s.exposed_ms_per_step or 0.0)
            units.append((stat.block or "(root)", worst))
    if not units:
        return []
    name, worst = max(units, key=lambda u: u[1].exposed_ms_per_step or 0.0)
    return [
        f"FSDP all-gather exposed every step on every rank for unit(s) "
        f"{', '.join(n for n, _ in units)} (largest: {name}, {worst.exposed_ms_per_step:.2f} of "
        f"{worst.ms_per_step:.2f} ms per step in {worst.calls_per_step:g} call(s)): prefetch "
        "the next unit (set_modules_to_forward_prefetch / set_modules_to_backward_prefetch), or "
        "keep a unit unsharded between forward and backward (reshard_after_forward=False) to "
        "skip its backward re-gather"
    ]


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
