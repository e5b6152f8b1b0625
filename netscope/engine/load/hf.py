"""Hugging Face layouts: save_pretrained folders, sharded checkpoints and their index, adapters.

A folder (or its ``*.index.json``) is read as the whole model: every shard's safetensors header,
no value unless values are needed. One shard named as a checkpoint is read as what it is, with a
note saying it holds only part of the model. With ``config.json`` next to the weights and
transformers installed, the model is built from the config (on meta when no forward runs), so the
tree shows the real block classes; the weights are then compared with it like ``--weights``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.load.checkpoint import (
    Checkpoint,
    header_nbytes,
    read_file,
    read_safetensors_header,
    read_safetensors_values,
)

SHARD_NAME = re.compile(
    r"^(?P<stem>.+)-(?P<index>\d+)-of-(?P<count>\d+)\.(?P<ext>safetensors|bin)$"
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_model.bin")
CLASSES_HINT = (
    "install transformers (pip install transformers) to see the block classes built from "
    "config.json"
)


def read_pretrained(
    path: str, *, trust_pickle: bool, values: bool, max_value_bytes: int | None
) -> Checkpoint:
    """A save_pretrained folder, a sharded folder, an ``*.index.json`` or a peft adapter folder."""
    shown = display_path(path)
    options: dict[str, Any] = {
        "trust_pickle": trust_pickle,
        "values": values,
        "max_value_bytes": max_value_bytes,
    }
    if not os.path.isdir(path):
        if not os.path.isfile(path):
            raise NetscopeError(f"no such checkpoint index: {shown}", path=path)
        checkpoint = read_sharded(path, **options)
        folder = os.path.dirname(path) or "."
    else:
        folder = path
        names = set(os.listdir(path))
        if "adapter_config.json" in names:
            return read_adapter(path, **options)
        index = next((n for n in INDEX_FILES if n in names), None)
        single = next((n for n in WEIGHT_FILES if n in names), None)
        if index is not None:
            checkpoint = read_sharded(os.path.join(path, index), **options)
        elif single is not None:
            checkpoint = read_file(os.path.join(path, single), **options)
        else:
            listed = ", ".join(sorted(names)[:8]) + (" ..." if len(names) > 8 else "")
            raise NetscopeError(
                f"{shown} is a folder without a checkpoint netscope can read "
                f"(it holds: {listed or 'nothing'})",
                path=path,
                hint="netscope reads a save_pretrained folder: model.safetensors (or "
                "pytorch_model.bin), model.safetensors.index.json with its shards, or a peft "
                "adapter (adapter_config.json + adapter_model.safetensors); or name one file.",
            )
    checkpoint.path = path
    if os.path.isfile(os.path.join(folder, "config.json")):
        checkpoint.config_dir = folder
    return checkpoint


def read_sharded(
    index_path: str, *, trust_pickle: bool, values: bool, max_value_bytes: int | None
) -> Checkpoint:
    """Every shard an index lists, as one checkpoint; each key checked against its shard."""
    shown = display_path(index_path)
    folder = os.path.dirname(index_path) or "."
    try:
        with open(index_path, encoding="utf-8") as handle:
            index = json.load(handle)
    except ValueError as exc:
        raise NetscopeError(
            f"cannot read the shard index {shown}: it is not valid JSON ({exc})", path=index_path
        ) from exc
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise NetscopeError(
            f'{shown} is not a shard index: it has no "weight_map" of tensor names to files',
            path=index_path,
            hint="a sharded checkpoint's index is written by save_pretrained next to its shards",
        )
    by_shard: dict[str, list[str]] = {}
    for key, shard in weight_map.items():
        by_shard.setdefault(str(shard), []).append(str(key))
    absent = [s for s in by_shard if not os.path.isfile(os.path.join(folder, s))]
    if absent:
        listed = ", ".join(absent[:3]) + (" ..." if len(absent) > 3 else "")
        raise NetscopeError(
            f"{shown} lists {len(by_shard)} shard files but {len(absent)} are not in "
            f"{display_path(folder)}: {listed}",
            path=index_path,
            hint="download every shard next to the index (e.g. hf download REPO --include "
            "'*.safetensors' --local-dir FOLDER)",
        )
    files = tuple(os.path.join(folder, s) for s in by_shard)
    if all(s.endswith(".safetensors") for s in by_shard):
        tensors = _read_safetensors_shards(folder, by_shard, values, max_value_bytes)
        fmt = "safetensors"
    else:
        tensors = {}
        for shard, keys in by_shard.items():
            part = read_file(
                os.path.join(folder, shard),
                trust_pickle=trust_pickle,
                values=values,
                max_value_bytes=max_value_bytes,
            )
            _check_listed(index_path, shard, keys, part.tensors)
            tensors.update({k: part.tensors[k] for k in keys})
        fmt = "torch"
    note = (
        f"Sharded checkpoint: {len(tensors)} tensors in {len(files)} files, read through "
        f"{os.path.basename(index_path)}"
    )
    metadata = {str(k): str(v) for k, v in (index.get("metadata") or {}).items()}
    return Checkpoint(index_path, fmt, tensors, metadata=metadata, files=files, notes=(note,))


def _read_safetensors_shards(
    folder: str, by_shard: dict[str, list[str]], values: bool, max_value_bytes: int | None
) -> dict[str, torch.Tensor]:
    headers = {s: read_safetensors_header(os.path.join(folder, s)) for s in by_shard}
    total = sum(header_nbytes(h) for h in headers.values())
    want_values = values and (max_value_bytes is None or total <= max_value_bytes)
    tensors: dict[str, torch.Tensor] = {}
    for shard, keys in by_shard.items():
        header = headers[shard][0]
        _check_listed(os.path.join(folder, shard), shard, keys, header)
        if want_values:
            tensors.update(read_safetensors_values(os.path.join(folder, shard), keys))
        else:
            for key in keys:
                dtype, shape = header[key]
                tensors[key] = torch.empty(shape, dtype=dtype, device="meta")
    return tensors


def _check_listed(path: str, shard: str, keys: list[str], found: Any) -> None:
    absent = [k for k in keys if k not in found]
    if absent:
        raise NetscopeError(
            f"the shard index places {len(absent)} tensor(s) in {shard} that the file does not "
            f"hold: {', '.join(absent[:3])}{' ...' if len(absent) > 3 else ''}",
            path=path,
            hint="the index and its shards come from different saves: download them again",
        )


def shard_note(path: str) -> str:
    """For ``model-00001-of-00004.safetensors``: say it is one shard and how to see the model."""
    match = SHARD_NAME.match(os.path.basename(path))
    if match is None or int(match["count"]) <= 1:
        return ""
    folder = os.path.dirname(path) or "."
    index = f"{match['stem']}.{match['ext']}.index.json"
    whole = (
        f"open the folder {display_path(folder)} (or {index}) to see the whole model"
        if os.path.isfile(os.path.join(folder, index))
        else f"put every shard and {index} in one folder and open that folder"
    )
    return (
        f"{display_path(path)} is shard {int(match['index'])} of {int(match['count'])} of a "
        f"sharded checkpoint: it holds only part of the model's tensors; {whole}"
    )


def read_adapter(
    folder: str, *, trust_pickle: bool, values: bool, max_value_bytes: int | None
) -> Checkpoint:
    """A peft adapter folder: adapter_config.json and the adapter's weights, with its base."""
    shown = display_path(folder)
    config_path = os.path.join(folder, "adapter_config.json")
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
    except ValueError as exc:
        raise NetscopeError(
            f"cannot read {display_path(config_path)}: not valid JSON ({exc})", path=config_path
        ) from exc
    weights = next(
        (os.path.join(folder, n) for n in ADAPTER_FILES if os.path.isfile(os.path.join(folder, n))),
        None,
    )
    if weights is None:
        raise NetscopeError(
            f"{shown} has adapter_config.json but no adapter weights "
            f"({' or '.join(ADAPTER_FILES)})",
            path=folder,
            hint="save the adapter with peft's model.save_pretrained(FOLDER)",
        )
    checkpoint = read_file(
        weights, trust_pickle=trust_pickle, values=values, max_value_bytes=max_value_bytes
    )
    checkpoint.path = folder
    checkpoint.adapter = config if isinstance(config, dict) else {}
    checkpoint.notes = (*checkpoint.notes, adapter_note(folder, checkpoint))
    return checkpoint


def adapter_label(config: dict[str, Any]) -> str:
    return f"{config.get('peft_type') or 'peft'} adapter"


def adapter_note(folder: str, checkpoint: Checkpoint) -> str:
    config = checkpoint.adapter or {}
    base = config.get("base_model_name_or_path") or "(adapter_config.json names no base model)"
    details = [
        f"{name}={config[key]}"
        for name, key in (("r", "r"), ("lora_alpha", "lora_alpha"), ("on", "target_modules"))
        if config.get(key) is not None
    ]
    numel = sum(t.numel() for t in checkpoint.tensors.values())
    shown = display_path(folder)
    return (
        f"{shown} is a {adapter_label(config)} (peft) for the base model {base}"
        f"{' (' + ', '.join(details) + ')' if details else ''}: {len(checkpoint.tensors)} adapter "
        f"tensors, {numel:,} parameters; the base model's weights are not in it. To use it: "
        f"PeftModel.from_pretrained(base_model, {shown!r}), then merge_and_unload() for one "
        "plain model."
    )


def config_folder(target: str) -> str | None:
    """The save_pretrained folder whose config.json describes ``target`` (a folder or index)."""
    if os.path.isdir(target):
        folder = target
        if os.path.isfile(os.path.join(folder, "adapter_config.json")):
            return None
    elif target.endswith(".index.json"):
        folder = os.path.dirname(target) or "."
    else:
        return None
    return folder if os.path.isfile(os.path.join(folder, "config.json")) else None


def model_from_config(folder: str, device: torch.device) -> tuple[nn.Module | None, str]:
    """Build the model config.json describes on ``device``: (model, "") or (None, why not).

    Only classes transformers ships are built; custom code (``auto_map``) is never run.
    """
    config_path = os.path.join(folder, "config.json")
    shown = display_path(config_path)
    try:
        with open(config_path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except ValueError as exc:
        return None, f"{shown} is not valid JSON ({exc}); shown: the tree of checkpoint keys"
    try:
        import transformers
    except ImportError:
        return None, f"Shown: the tree of checkpoint keys; {CLASSES_HINT}"
    if not isinstance(raw, dict):
        return None, f"{shown} is not a JSON object; shown: the tree of checkpoint keys"
    if raw.get("auto_map"):
        return None, (
            f"{shown} names custom model code (auto_map), which netscope never runs; shown: the "
            "tree of checkpoint keys. To see the classes, write a model.py whose build_model() "
            "calls AutoModel.from_config(..., trust_remote_code=True) and pass this folder "
            "as --weights."
        )
    architectures = raw.get("architectures") or []
    cls = getattr(transformers, str(architectures[0]), None) if architectures else None
    try:
        config = transformers.AutoConfig.from_pretrained(folder)
        dtype = getattr(config, "dtype", None)
        kwargs = {"dtype": dtype} if isinstance(dtype, torch.dtype) else {}
        with torch.device(device):
            if cls is not None:
                model = cls._from_config(config, **kwargs)
            else:
                model = transformers.AutoModel.from_config(config, **kwargs)
    except Exception as exc:
        name = architectures[0] if architectures else raw.get("model_type", "the model")
        return None, (
            f"building {name} from {shown} with transformers {transformers.__version__} failed "
            f"({type(exc).__name__}: {exc}); shown: the tree of checkpoint keys"
        )
    return model, ""
