"""A sharded model in the Markdown and HTML reports: FSDP2 units, tensor-parallel blocks and
each DTensor parameter's shard (tables present only when the model has them)."""

from __future__ import annotations

from netscope.engine.model import Snapshot
from netscope.report.table import Table, block_label
from netscope.report.values import NOT_AVAILABLE, fmt_shape


def sharding_tables(snapshot: Snapshot) -> list[Table]:
    units = [b for b in snapshot.blocks if b.fsdp is not None or b.parallel_style is not None]
    dtensors = [p for p in snapshot.parameters if p.placements is not None]
    if not units and not dtensors:
        return []
    block_rows = [
        [
            block_label(b.path),
            b.type,
            b.fsdp.summary if b.fsdp is not None else "",
            (b.parallel_style or "")
            + (f" ({b.parallel_style_how})" if b.parallel_style_how not in ("", "hook") else ""),
        ]
        for b in units
    ]
    param_rows = [
        [
            p.name,
            fmt_shape(p.shape),
            fmt_shape(p.local_shape if p.local_shape is not None else p.shape),
            ", ".join(p.placements or ()),
            p.mesh.summary if p.mesh is not None else NOT_AVAILABLE,
        ]
        for p in dtensors
    ]
    return [
        Table("Sharded blocks", ["Block", "Class", "FSDP unit", "Tensor parallel"], block_rows,
              code={0}),
        Table(
            "Sharded parameters (this rank)",
            ["Name", "Global shape", "Local shard", "Placements", "Mesh"],
            param_rows,
            note="Statistics in Parameters are of this rank's local shard.",
            code={0},
        ),
    ]  # fmt: skip
