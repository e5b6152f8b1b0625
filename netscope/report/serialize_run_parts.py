"""The pieces of a script's run that both the ``run`` section and each of its ``ranks`` hold
(docs/schema.md): step times, phases, the error, the loop's syncs and copies.
"""

from __future__ import annotations

from typing import Any

from netscope.engine.model import LoopCopy, LoopSync, ScriptError, Spread, StepPhases
from netscope.report.serialize_profile import copy_dict, sync_dict
from netscope.report.values import num


def spread_dict(value: Spread | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"median": num(value.median), "p10": num(value.p10), "p90": num(value.p90)}


def script_error_dict(error: ScriptError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "type": error.type,
        "message": error.message,
        "location": error.location,
        "traceback": error.traceback,
    }


def phases_dict(value: StepPhases | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "data": num(value.data),
        "forward": num(value.forward),
        "backward": num(value.backward),
        "optimizer": num(value.optimizer),
        "other": num(value.other),
    }


def loop_sync_dict(row: LoopSync) -> dict[str, Any]:
    return {
        **sync_dict(row.finding),
        "per_step": num(row.per_step),
        "seen_steps": row.seen_steps,
        "sampled_steps": row.sampled_steps,
    }


def loop_copy_dict(row: LoopCopy) -> dict[str, Any]:
    return {
        **copy_dict(row.finding),
        "per_step": num(row.per_step),
        "seen_steps": row.seen_steps,
        "sampled_steps": row.sampled_steps,
    }
