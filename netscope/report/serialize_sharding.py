"""A sharded model's fields in reports: a DTensor parameter's mesh, an FSDP2 unit's settings."""

from __future__ import annotations

from typing import Any

from netscope.engine.model import FsdpUnit, MeshInfo


def mesh_dict(mesh: MeshInfo | None) -> dict[str, Any] | None:
    if mesh is None:
        return None
    names = None if mesh.dim_names is None else list(mesh.dim_names)
    return {"shape": list(mesh.shape), "dim_names": names, "device_type": mesh.device_type}


def fsdp_dict(unit: FsdpUnit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {
        "reshard_after_forward": unit.reshard_after_forward,
        "param_dtype": unit.param_dtype,
        "reduce_dtype": unit.reduce_dtype,
        "output_dtype": unit.output_dtype,
    }
