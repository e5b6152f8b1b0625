"""The ranks of a torchrun job in the ``run`` section: ``ranks``, ``straggler``, ``skew_pct``,
``world_size`` (docs/schema.md). Present only in reports of ``netscope run --nproc-per-node`` and
``netscope collect``.
"""

from __future__ import annotations

from typing import Any

from netscope.engine.model import CollectiveStat, RankRun, RunReport
from netscope.report.serialize_compute import memory_dict
from netscope.report.serialize_run_parts import (
    loop_copy_dict,
    loop_sync_dict,
    phases_dict,
    script_error_dict,
    spread_dict,
)
from netscope.report.values import num


def rank_dict(rank: RankRun) -> dict[str, Any]:
    run = rank.report
    return {
        "rank": rank.rank,
        "host": rank.host,
        "local_rank": rank.local_rank,
        "node_rank": rank.node_rank,
        "state": run.state,
        "exit_code": run.exit_code,
        "error": script_error_dict(run.error),
        "steps": run.steps,
        "step_ms": spread_dict(run.step_ms),
        "phases_ms": phases_dict(run.phases_ms),
        "wait_ms": None if rank.wait_ms is None else num(rank.wait_ms.median),
        "busy_ms": None if rank.busy_ms is None else num(rank.busy_ms),
        "flops_per_step": run.flops_per_step,  # this rank's own: its batch, its shards
        "syncs": [loop_sync_dict(s) for s in run.syncs],
        "copies": [loop_copy_dict(c) for c in run.copies],
        "collectives": [collective_dict(c) for c in rank.collectives],
        "memory": memory_dict(run.step_memory),  # this rank's counted step: its local shards
    }


def collective_dict(stat: CollectiveStat) -> dict[str, Any]:
    exposed = stat.exposed_ms_per_step
    return {
        "kind": stat.kind,
        "via": stat.via,
        "block": stat.block,
        "calls_per_step": num(stat.calls_per_step),
        "ms_per_step": num(stat.ms_per_step),
        "exposed_ms_per_step": None if exposed is None else num(exposed),
        "bytes_per_step": stat.bytes_per_step,
        "exposed_steps": stat.exposed_steps,
        "steps": stat.steps,
    }


def ranks_fields(run: RunReport) -> dict[str, Any]:
    return {
        "ranks": [rank_dict(r) for r in run.ranks],
        "straggler": run.straggler,
        "skew_pct": None if run.skew_pct is None else num(run.skew_pct),
        "world_size": run.world_size,
    }
