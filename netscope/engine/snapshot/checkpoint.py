"""A checkpoint alone: its tensors as parameters, a block tree rebuilt from the dotted keys.

The architecture lives in code, not in the file, so blocks carry no class (type ``group``) and
no forward runs. Values are read for statistics only below ``options.STATS_LIMIT_BYTES``;
bigger files stay metadata-only (memory-mapped or header-read) so opening them is fast and light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import torch

from netscope.engine.errors import display_path
from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import BlockInfo, Finding, ForwardInfo, Snapshot
from netscope.engine.snapshot.findings import model_findings
from netscope.engine.snapshot.tensors import (
    TensorEntry,
    count_params,
    param_info,
    split_name,
    tie_groups,
)
from netscope.engine.snapshot.values import tensor_stats


def _block_paths(names: list[str]) -> list[str]:
    """Every prefix of every key's block, in pre-order of first appearance."""
    children: dict[str, list[str]] = {"": []}
    for name in names:
        block = split_name(name)[0]
        parts = block.split(".") if block else []
        for depth in range(1, len(parts) + 1):
            path, parent = ".".join(parts[:depth]), ".".join(parts[: depth - 1])
            if path not in children:
                children[path] = []
                children[parent].append(path)
    order: list[str] = []
    stack = [""]
    while stack:
        path = stack.pop()
        order.append(path)
        stack.extend(reversed(children[path]))
    return order


# A state_dict records neither which tensors are buffers nor requires_grad: these names (BatchNorm's
# statistics) and integer or bool tensors are buffers by convention; the rest read as parameters
BUFFER_ATTRIBUTES = frozenset({"running_mean", "running_var", "num_batches_tracked"})
SPLIT_NOTE = (
    "A checkpoint does not record which tensors are buffers: running_mean, running_var, "
    "num_batches_tracked and integer or bool tensors are counted as buffers by their names and "
    "dtypes, the rest as parameters; nor does it record requires_grad, so trainable is n/a."
)


def kind_by_convention(attribute: str, tensor: torch.Tensor) -> Literal["parameter", "buffer"]:
    """A bare state_dict's tensor: a buffer by BatchNorm's names or an integer/bool dtype."""
    if attribute in BUFFER_ATTRIBUTES:
        return "buffer"
    numeric = tensor.is_floating_point() or tensor.is_complex() or tensor.is_quantized
    return "parameter" if numeric else "buffer"


def snapshot_checkpoint(loaded: LoadedTarget, progress: Callable[[str], None] | None) -> Snapshot:
    tensors = dict(loaded.state_dict or {})
    entries = []
    for name, tensor in tensors.items():
        block, attribute = split_name(name)
        kind = kind_by_convention(attribute, tensor)
        entries.append(TensorEntry(name, block, attribute, kind, tensor))
    ties, tie_index = tie_groups([e for e in entries if e.kind == "parameter"])
    nbytes = sum(t.numel() * t.element_size() for t in tensors.values())
    limit = loaded.options.stats_limit
    want_values = loaded.options.device != "meta" and (limit is None or nbytes <= limit)
    if progress is not None:
        progress("statistics" if want_values else "reading metadata")
    stats = tensor_stats([e.tensor for e in entries]) if want_values else [None] * len(entries)
    rows = [
        param_info(e, s, None, tie_index.get(e.name), False)
        for e, s in zip(entries, stats, strict=False)
    ]
    params = [row for row in rows if row.kind == "parameter"]
    buffers = [row for row in rows if row.kind == "buffer"]
    paths = _block_paths(list(tensors))
    counts = count_params(params, ties, paths)
    names_by_block: dict[str, list[str]] = {}
    for info in params:
        names_by_block.setdefault(info.block, []).append(info.name)
    buffers_by_block: dict[str, list[str]] = {}
    for info in buffers:
        buffers_by_block.setdefault(info.block, []).append(info.name)
    children: dict[str, list[str]] = {}
    for path in paths[1:]:
        children.setdefault(path.rpartition(".")[0], []).append(path)
    blocks = tuple(
        BlockInfo(
            path=path, name=path.rpartition(".")[2], type="checkpoint" if not path else "group",
            type_module="", custom=False, source=None,
            depth=path.count(".") + 1 if path else 0,
            parent=None if not path else path.rpartition(".")[0],
            children=tuple(children.get(path, ())), params=counts.own.get(path, 0),
            total_params=counts.tree.get(path, 0),
            parameter_names=tuple(names_by_block.get(path, ())),
            buffer_names=tuple(buffers_by_block.get(path, ())), calls=None,
        )
        for path in paths
    )  # fmt: skip
    shown = display_path(loaded.path)
    note = (
        f"{shown} is a checkpoint: tensors without the code that uses them, so no forward runs. "
        f"Open `model.py --weights {shown}` to compare it with a model."
    )
    if not want_values and loaded.options.device != "meta":
        note += (
            f" Value statistics skipped: {nbytes / 2**20:.0f} MB read as metadata only"
            " (--stats reads every value)."
        )
    note += f" {SPLIT_NOTE}"
    for extra in loaded.checkpoint_notes:  # one shard of M, an adapter, no transformers...
        note += f" {extra.rstrip('.')}."
    snapshot = Snapshot(
        target=shown,
        kind="checkpoint",
        model_class=loaded.checkpoint_label or "state_dict",
        device="cpu",
        blocks=blocks,
        parameters=tuple(params),
        buffers=tuple(buffers),
        ties=ties,
        unregistered=(),
        forward=ForwardInfo(ran=False, note=note),
        total_params=counts.total,
        trainable_params=None,  # a state_dict has no requires_grad
        total_bytes=nbytes,
        devices=tuple(sorted({p.device for p in rows})),
    )
    findings = tuple(f for f in model_findings(snapshot) if f.code != "no-example-input")
    return replace(snapshot, findings=(*findings, Finding("info", "checkpoint-only", note)))
