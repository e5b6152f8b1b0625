"""RunReport -> plain dict: the ``run`` report of ``netscope run -o FILE`` (docs/schema.md).

A run report is a model report (``kind: "run"``) whose ``model`` is the main model's snapshot
(``null`` when the script never called a model) plus a ``run`` section.
"""

from __future__ import annotations

from typing import Any

from netscope import __version__
from netscope.engine.model import RunMemory, RunReport
from netscope.report.serialize import SCHEMA_VERSION, report_dict
from netscope.report.serialize_compile import compile_dict
from netscope.report.serialize_compute import memory_dict
from netscope.report.serialize_profile import gil_dict, system_dict
from netscope.report.serialize_ranks import ranks_fields
from netscope.report.serialize_run_parts import (
    loop_copy_dict,
    loop_sync_dict,
    phases_dict,
    script_error_dict,
    spread_dict,
)
from netscope.report.values import num


def run_dict(run: RunReport) -> dict[str, Any]:
    error = run.error
    return {
        "argv": list(run.argv),
        "state": run.state,
        "exit_code": run.exit_code,
        "error": script_error_dict(error),
        "steps": run.steps,
        "step_boundary": run.step_boundary,
        "step_ms": spread_dict(run.step_ms),
        "phases_ms": phases_dict(run.phases_ms),
        "sampled_steps": run.sampled_steps,
        "sample_every": run.sample_every,
        "blocks": [
            {
                "path": b.path,
                "inclusive_ms": num(b.inclusive_ms),
                "self_ms": num(b.self_ms),
                "calls": b.calls,
            }
            for b in run.blocks
        ],
        "block_timed_steps": run.block_timed_steps,
        "syncs": [loop_sync_dict(s) for s in run.syncs],
        "copies": [loop_copy_dict(c) for c in run.copies],
        "totals": {  # not measured (null) when no step was sampled, never a fake 0
            "syncs_per_step": num(sum(s.per_step for s in run.syncs))
            if run.sampled_steps
            else None,
            "copies_per_step": num(sum(c.per_step for c in run.copies))
            if run.sampled_steps
            else None,
            "sampled_steps": run.sampled_steps,
            # an empty list in words (the app's and the Markdown's): on how many sampled steps
            # of how many, and that a rarer one can be missed; null when the list has entries
            "syncs_none_seen": None if run.syncs else run.none_seen("sync points"),
            "copies_none_seen": None if run.copies else run.none_seen("host-device copies"),
        },
        "models": [
            {"class": m.model_class, "total_params": m.total_params, "role": m.role}
            for m in run.models
        ],
        "flops_per_step": run.flops_per_step,
        "model_calls_per_step": num(run.model_calls_per_step),
        "achieved_flops_per_s": num(run.achieved_flops_per_s),
        "peak_flops_per_s": num(run.peak_flops_per_s),
        "peak_source": run.peak_source or None,
        "mfu": num(run.mfu),
        "memory": run_memory_dict(run.memory),
        "gil": gil_dict(run.gil),
        "system": system_dict(run.system),
        "notes": list(run.notes),
        "compile": compile_dict(run.compile),
    }


def run_memory_dict(memory: RunMemory | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    return {
        "how": memory.how,
        "peak_bytes": memory.peak_bytes,
        "growth_bytes_per_step": memory.growth_bytes_per_step,
        "growing": memory.growing,
        "note": memory.note,
        "samples": memory.samples,
    }


def run_report_dict(run: RunReport) -> dict[str, Any]:
    """The whole run report as JSON-ready data."""
    target = " ".join(run.argv)
    if run.snapshot is not None:
        data = report_dict(run.snapshot)
        data.update(kind="run", target=target)
    else:
        data = {
            "schema_version": SCHEMA_VERSION,
            "netscope_version": __version__,
            "kind": "run",
            "target": target,
            "device": None,
            "devices": [],
            "model": None,
            "forward": None,
            "compute": None,
            "memory": memory_dict(run.step_memory),  # the counted step's, without a tree
            "fit": None,
            "checkpoint": None,
            "findings": [],
            "profile": None,
        }
    data["run"] = run_dict(run)
    if run.world_size is not None:  # several ranks (torchrun)
        data["run"].update(ranks_fields(run))
    return data
