"""ParamInfo rows and tie-aware parameter counts, shared by model and checkpoint snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch.nn.parameter import is_lazy

from netscope.engine.compute.allocations import PLAIN_TYPES
from netscope.engine.dtypes import device_name, dtype_name
from netscope.engine.model import GradStats, ParamInfo, Quantization, TensorStats, TieGroup
from netscope.engine.snapshot.sharding import layout_of
from netscope.engine.ties import find_ties


@dataclass
class TensorEntry:
    """One named tensor of the tree before its statistics are known."""

    name: str
    block: str
    attribute: str
    kind: Literal["parameter", "buffer"]
    tensor: torch.Tensor
    persistent: bool = True
    requires_grad: bool = False
    role: str = ""  # "packed", "pruned", "parametrized" (see ParamInfo.role)
    note: str = ""


def split_name(name: str) -> tuple[str, str]:
    """``a.b.weight`` -> (``a.b``, ``weight``); a top-level name has block ``""``."""
    block, _, attribute = name.rpartition(".")
    return block, attribute


def tie_groups(entries: Sequence[TensorEntry]) -> tuple[tuple[TieGroup, ...], dict[str, int]]:
    """Tie groups over the entries and each tied name's group index."""
    groups: list[TieGroup] = []
    index: dict[str, int] = {}
    ties = find_ties((e.name, e.tensor) for e in entries)
    if not ties:
        return (), {}
    by_name: dict[str, list[TensorEntry]] = {}
    for e in entries:
        by_name.setdefault(e.name, []).append(e)
    for tie in ties:
        numel = max(
            (
                e.tensor.numel()
                for name in dict.fromkeys(tie.names)
                for e in by_name.get(name, ())
                if not is_lazy(e.tensor)
            ),
            default=None,
        )
        for name in tie.names:
            index[name] = len(groups)
        groups.append(TieGroup(tie.names, numel, tie.how))  # type: ignore[arg-type]
    return tuple(groups), index


def quantization_of(tensor: torch.Tensor) -> Quantization | None:
    """Scheme, scale and zero point of a quantized tensor; None for any other tensor."""
    if not tensor.is_quantized or tensor.device.type == "meta":
        return None
    scheme = tensor.qscheme()
    name = str(scheme).removeprefix("torch.")
    if scheme in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        scale, zero = float(tensor.q_scale()), int(tensor.q_zero_point())
        return Quantization(name, scale=scale, zero_point=zero)
    scales = tensor.q_per_channel_scales().double()
    zeros = tensor.q_per_channel_zero_points().double()
    return Quantization(
        name,
        axis=int(tensor.q_per_channel_axis()),
        channels=int(scales.numel()),
        scale_range=(float(scales.min()), float(scales.max())),
        zero_point_range=(float(zeros.min()), float(zeros.max())),
    )


def param_info(
    entry: TensorEntry,
    stats: TensorStats | None,
    grad: GradStats | None,
    tie_group: int | None,
    was_lazy: bool,
) -> ParamInfo:
    """One row; a DTensor's global shape, its local shard's shape, placements and mesh."""
    tensor = entry.tensor
    plain = type(tensor) in PLAIN_TYPES  # neither lazy nor a DTensor: two checks fewer
    lazy = not plain and is_lazy(tensor)
    numel = None if lazy else tensor.numel()
    layout = None if plain else layout_of(tensor)
    local_shape = placements = mesh = None
    if layout is not None:
        local_shape, placements, mesh = layout
        if local_shape == tuple(tensor.shape):
            local_shape = None  # replicated: this rank holds the whole tensor
    return ParamInfo(
        name=entry.name,
        block=entry.block,
        attribute=entry.attribute,
        kind=entry.kind,
        shape=None if lazy else tuple(tensor.shape),
        dtype=dtype_name(tensor.dtype),
        device=device_name(tensor.device),
        numel=numel,
        bytes=None if numel is None else numel * tensor.element_size(),
        requires_grad=entry.requires_grad,
        initialized=not lazy,
        was_lazy=was_lazy,
        persistent=entry.persistent,
        stats=stats,
        grad=grad,
        tie_group=tie_group,
        quantization=quantization_of(tensor),
        role=entry.role,  # type: ignore[arg-type]
        note=entry.note,
        local_shape=local_shape,
        placements=placements,
        mesh=mesh,
    )


def unit_of(info: ParamInfo) -> str:
    """The counting unit: a tie group counts once under one key."""
    return f"#tie{info.tie_group}" if info.tie_group is not None else info.name


def held_bytes(params: Sequence[ParamInfo], buffers: Sequence[ParamInfo]) -> int | None:
    """The bytes the model holds, a tie group once; None (not available) while any tensor is
    lazy. One rule for the structure preview and the full snapshot."""
    if any(t.bytes is None for t in (*params, *buffers)):
        return None
    per_unit = {unit_of(info): info.bytes for info in params}
    return sum(b or 0 for b in per_unit.values()) + sum(b.bytes or 0 for b in buffers)


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts, each tie group once. A lazy parameter has no size yet: a count over
    lazy parameters only is None (not available), one that also covers sized ones leaves them
    out and is a lower bound (``uncounted`` says how many parameters it leaves out)."""

    own: dict[str, int | None]  # block -> its direct parameters
    tree: dict[str, int | None]  # block -> its whole subtree
    uncounted: dict[str, int]  # block -> lazy parameters under it (subtree), tie groups once
    total: int | None
    trainable: int | None


def _counted(known: int, sized: int, lazy: int) -> int | None:
    """The sum of the sized units, or None when every unit counted here is lazy."""
    return None if lazy and not sized else known


def count_params(
    params: Sequence[ParamInfo], ties: Sequence[TieGroup], block_paths: Sequence[str]
) -> ParamCounts:
    """Own and subtree counts per block, total and trainable: every tie group counted once."""
    size: dict[str, int | None] = {}
    trainable_units: set[str] = set()
    own_units: dict[str, set[str]] = {path: set() for path in block_paths}
    # block -> [size, sized units, lazy units] of its untied units (each unit is one name)
    plain: dict[str, list[int]] = {}
    tied: dict[str, set[str]] = {}  # block or ancestor -> tie groups under it
    for info in params:
        unit = unit_of(info)
        first = unit not in size
        size[unit] = ties[info.tie_group].numel if info.tie_group is not None else info.numel
        if info.requires_grad:
            trainable_units.add(unit)
        own_units.setdefault(info.block, set()).add(unit)
        if info.tie_group is None:
            if first:
                tally = plain.setdefault(info.block, [0, 0, 0])
                unit_size = size[unit]
                if unit_size is None:
                    tally[2] += 1
                else:
                    tally[0] += unit_size
                    tally[1] += 1
            continue
        parts = info.block.split(".") if info.block else []
        for depth in range(len(parts) + 1):
            tied.setdefault(".".join(parts[:depth]), set()).add(unit)

    def tally_of(units: set[str]) -> list[int]:
        sizes = [size[u] for u in units]
        known = [s for s in sizes if s is not None]
        return [sum(known), len(known), len(sizes) - len(known)]

    own = {path: _counted(*tally_of(units)) for path, units in own_units.items()}
    tree_tally = {path: [0, 0, 0] for path in block_paths}
    for block, tally in plain.items():  # each block's units added to it and every ancestor
        path = block
        while True:
            into = tree_tally.setdefault(path, [0, 0, 0])
            for i in range(3):
                into[i] += tally[i]
            if not path:
                break
            path = path.rpartition(".")[0]
    for path, units in tied.items():
        into = tree_tally.setdefault(path, [0, 0, 0])
        for i, value in enumerate(tally_of(units)):
            into[i] += value
    return ParamCounts(
        own=own,
        tree={path: _counted(*tally) for path, tally in tree_tally.items()},
        uncounted={path: tally[2] for path, tally in tree_tally.items()},
        total=_counted(*tally_of(set(size))),
        trainable=_counted(*tally_of(trainable_units)),
    )
