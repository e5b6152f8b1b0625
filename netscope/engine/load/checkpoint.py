"""Reading checkpoints safely: torch files with ``weights_only=True`` (mmap), safetensors headers.

Nothing in a checkpoint is executed unless the user passes ``--trust-pickle``. Large files are
never read in full: torch files are memory-mapped, safetensors are read header-first.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError, display_path

SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}  # fmt: skip
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network",
                   "weights", "params", "ema", "model_ema")  # fmt: skip
SKIPPED_KEYS = ("optimizer", "optimizer_states", "optimizer_state_dict", "optim", "lr_schedulers",
                "scheduler", "callbacks", "loops")  # fmt: skip
TRUST_HINT = "If you trust this file, pass --trust-pickle (it runs code from the file)."


@dataclass
class Checkpoint:
    """A checkpoint's tensors by dotted key, and where in the file they were found."""

    path: str
    format: str  # "torch" or "safetensors"
    tensors: dict[str, torch.Tensor]  # real (mmap) tensors, or meta tensors from a header
    found_under: str = ""  # "state_dict" when nested, "" at top level
    other_entries: tuple[str, ...] = ()  # e.g. optimizer_states, epoch
    metadata: dict[str, str] = field(default_factory=dict)
    module: nn.Module | None = None  # a whole pickled module (only with --trust-pickle)


def read_checkpoint(
    path: str,
    *,
    trust_pickle: bool = False,
    values: bool = True,
    max_value_bytes: int | None = None,
) -> Checkpoint:
    """Open ``path`` by its extension.

    Safetensors values are read only when ``values`` and the tensors fit in ``max_value_bytes``
    (None: any size); otherwise its tensors are meta tensors built from the header alone.
    """
    if not os.path.isfile(path):
        raise NetscopeError(f"no such checkpoint file: {display_path(path)}", path=path)
    if path.endswith(".safetensors"):
        header = read_safetensors_header(path)
        return _read_safetensors(path, header, values=values, max_value_bytes=max_value_bytes)
    return _read_torch(
        path, trust_pickle=trust_pickle, values=values, max_value_bytes=max_value_bytes
    )


# --- safetensors ----------------------------------------------------------------------------


def read_safetensors_header(path: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The JSON header (tensors and ``__metadata__``), checked against the file's size."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise _corrupt(path, "shorter than a safetensors header")
        (length,) = struct.unpack("<Q", head)
        if length > size - 8 or length > 100_000_000:
            raise _corrupt(path, f"header claims {length} bytes but the file has {size}")
        try:
            header = json.loads(handle.read(length))
        except ValueError as exc:
            raise _corrupt(path, f"header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _corrupt(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_size = size - 8 - length
    for name, entry in header.items():
        end = entry.get("data_offsets", [0, 0])[1] if isinstance(entry, dict) else None
        if end is None or end > data_size:
            raise _corrupt(path, f"tensor {name!r} lies beyond the end of the file (truncated?)")
    return header, {str(k): str(v) for k, v in metadata.items()}


def _header_nbytes(header: dict[str, dict[str, Any]]) -> int:
    return sum(
        end - start for start, end in (e.get("data_offsets", (0, 0)) for e in header.values())
    )


def _read_safetensors(
    path: str,
    parsed: tuple[dict[str, dict[str, Any]], dict[str, str]],
    *,
    values: bool,
    max_value_bytes: int | None,
) -> Checkpoint:
    header, metadata = parsed
    if values and (max_value_bytes is None or _header_nbytes(header) <= max_value_bytes):
        from safetensors import safe_open

        try:
            with safe_open(path, framework="pt") as handle:
                tensors = {name: handle.get_tensor(name) for name in header}
        except Exception as exc:
            raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    else:
        tensors = {}
        for name, entry in header.items():
            dtype = SAFETENSORS_DTYPES.get(str(entry.get("dtype")), torch.uint8)
            tensors[name] = torch.empty(tuple(entry.get("shape", ())), dtype=dtype, device="meta")
    return Checkpoint(path, "safetensors", tensors, metadata=metadata)


# --- torch.save files -----------------------------------------------------------------------


def _torch_load(path: str, weights_only: bool) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):  # legacy (non-zip) files cannot be memory-mapped
            raise
    return torch.load(path, map_location="cpu", weights_only=weights_only)


def _looks_like_torch_save(path: str) -> bool:
    """torch.save writes a zip archive (or, before 1.6, a pickle starting with PROTO 0x80)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def _read_torch(
    path: str, *, trust_pickle: bool, values: bool, max_value_bytes: int | None
) -> Checkpoint:
    if not _looks_like_torch_save(path):  # nothing torch.load can read: say so before trying
        try:  # a safetensors file under another extension?
            header = read_safetensors_header(path)
        except NetscopeError:
            raise _corrupt(path, "it is neither a torch.save archive nor a pickle") from None
        return _read_safetensors(path, header, values=values, max_value_bytes=max_value_bytes)
    try:
        obj = _torch_load(path, weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Weights only" in str(exc):
            raise _unsafe(path, str(exc)) from exc
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    except (AttributeError, ModuleNotFoundError, ImportError) as exc:
        raise NetscopeError(
            f"{display_path(path)} refers to code that cannot be imported here: {exc}",
            path=path,
            hint="a pickled module needs the module that defines its class importable: run from "
            "that module's folder or add it to PYTHONPATH; better, save model.state_dict()",
        ) from exc
    except Exception as exc:
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    if isinstance(obj, nn.Module):
        return Checkpoint(path, "torch", dict(obj.state_dict()), module=obj)
    tensors, found_under, others = find_state_dict(obj)
    if not tensors:
        raise NetscopeError(
            f"{display_path(path)} holds no tensors (found {type(obj).__name__})", path=path
        )
    return Checkpoint(path, "torch", tensors, found_under=found_under, other_entries=others)


def find_state_dict(obj: Any) -> tuple[dict[str, torch.Tensor], str, tuple[str, ...]]:
    """The model's tensors in a (nested) checkpoint: ``state_dict`` next to optimizer state."""
    if isinstance(obj, Mapping):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return {str(k): v for k, v in obj.items()}, "", ()
        for key in STATE_DICT_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping):
                tensors, under, _ = find_state_dict(inner)
                if tensors:
                    others = tuple(str(k) for k in obj if k != key)
                    return tensors, f"{key}.{under}".rstrip("."), others
    tensors = _flatten(obj, "")
    others = (
        tuple(str(k) for k in obj if str(k) in SKIPPED_KEYS) if isinstance(obj, Mapping) else ()
    )
    return tensors, "", others


def _flatten(obj: Any, prefix: str) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if str(key) not in SKIPPED_KEYS:
                out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _corrupt(path: str, why: str) -> NetscopeError:
    return NetscopeError(
        f"cannot read checkpoint {display_path(path)}: the file is truncated or corrupt ({why})",
        path=path,
    )


def _unsafe(path: str, detail: str) -> NetscopeError:
    match = re.search(r"GLOBAL ([\w.]+)", detail)
    what = f"a Python object ({match.group(1)})" if match else "Python objects beyond tensors"
    return NetscopeError(
        f"refused to open {display_path(path)}: it holds {what} that only full unpickling can "
        "rebuild, and unpickling runs code stored in the file (weights_only=True refused it)",
        path=path,
        hint=f"{TRUST_HINT} Better: save model.state_dict() instead of the whole model.",
    )
