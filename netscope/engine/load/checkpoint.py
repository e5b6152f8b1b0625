"""Reading checkpoints safely: torch files with ``weights_only=True`` (mmap), safetensors headers.

Nothing in a checkpoint is executed unless the user passes ``--trust-pickle``. Large files are
never read in full: torch files are memory-mapped, safetensors are read header-first.

One file at a time: folders and sharded checkpoints (``hf.py``, built on this module) and the
choice between the two for any path (``reader.read_checkpoint``) live above it.
"""

from __future__ import annotations

import pickle
import pickletools
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError, display_path
from netscope.engine.load.exists import require_file

SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U64": torch.uint64, "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8,
    "BOOL": torch.bool, "C64": torch.complex64,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
    "F8_E8M0": getattr(torch, "float8_e8m0fnu", None),
    "F8_E4M3FNUZ": getattr(torch, "float8_e4m3fnuz", None),
    "F8_E5M2FNUZ": getattr(torch, "float8_e5m2fnuz", None),
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
    format: str  # "torch", "safetensors" or "torchscript"
    tensors: dict[str, torch.Tensor]  # real (mmap) tensors, or meta tensors from a header
    found_under: str = ""  # "state_dict" when nested, "" at top level
    other_entries: tuple[str, ...] = ()  # e.g. optimizer_states, epoch
    metadata: dict[str, str] = field(default_factory=dict)
    module: nn.Module | None = None  # a whole pickled module (only with --trust-pickle)
    files: tuple[str, ...] = ()  # the files read: one, or every shard of a sharded checkpoint
    notes: tuple[str, ...] = ()  # plain words: "one shard of 4", "a LoRA adapter for ..."
    config_dir: str | None = None  # a save_pretrained folder holding config.json
    adapter: dict[str, Any] | None = None  # adapter_config.json of a peft adapter folder


def read_file(
    path: str,
    *,
    trust_pickle: bool = False,
    values: bool = True,
    max_value_bytes: int | None = None,
) -> Checkpoint:
    """One checkpoint file: safetensors by extension (or content), else a torch.save archive."""
    require_file(path, "checkpoint file")
    if path.endswith(".safetensors"):
        header = read_safetensors_header(path)
        return _read_safetensors(path, header, values=values, max_value_bytes=max_value_bytes)
    return _read_torch(
        path, trust_pickle=trust_pickle, values=values, max_value_bytes=max_value_bytes
    )


# --- safetensors ----------------------------------------------------------------------------

SafetensorsHeader = tuple[dict[str, tuple[torch.dtype, tuple[int, ...]]], dict[str, str]]


def read_safetensors_header(path: str) -> SafetensorsHeader:
    """Each tensor's dtype and shape, and ``__metadata__``, read by the ``safetensors`` library.

    ``safe_open`` memory-maps the file and parses (and checks) the header; no tensor value is
    read. A dtype torch has no equivalent for is an error naming the tensor, never a guess.
    """
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            names = handle.keys()  # a list: the handle itself is not iterable
            entries = {name: handle.get_slice(name) for name in names}
            raw = {name: (s.get_dtype(), tuple(s.get_shape())) for name, s in entries.items()}
    except SafetensorError as exc:
        raise _corrupt(path, f"safetensors: {exc}") from exc
    except OSError as exc:
        raise NetscopeError(f"cannot read {display_path(path)}: {exc}", path=path) from exc
    tensors = {}
    for name, (code, shape) in raw.items():
        dtype = SAFETENSORS_DTYPES.get(code)
        if dtype is None:
            raise NetscopeError(
                f"{display_path(path)}: tensor {name!r} has safetensors dtype {code}, which "
                f"torch {torch.__version__.split('+')[0]} has no dtype for",
                path=path,
                hint="a newer torch may know it; the file itself reads fine with "
                "safetensors.safe_open(..., framework='numpy') where numpy has the type",
            )
        tensors[name] = (dtype, shape)
    return tensors, {str(k): str(v) for k, v in metadata.items()}


def header_nbytes(header: SafetensorsHeader) -> int:
    total = 0
    for dtype, shape in header[0].values():
        numel = 1
        for dim in shape:
            numel *= dim
        total += numel * dtype.itemsize
    return total


def _read_safetensors(
    path: str,
    parsed: SafetensorsHeader,
    *,
    values: bool,
    max_value_bytes: int | None,
) -> Checkpoint:
    header, metadata = parsed
    if values and (max_value_bytes is None or header_nbytes(parsed) <= max_value_bytes):
        tensors = read_safetensors_values(path, list(header))
    else:
        tensors = {
            name: torch.empty(shape, dtype=dtype, device="meta")
            for name, (dtype, shape) in header.items()
        }
    return Checkpoint(path, "safetensors", tensors, metadata=metadata, files=(path,))


def read_safetensors_values(path: str, names: list[str]) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            return {name: handle.get_tensor(name) for name in names}
    except Exception as exc:
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc


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


# torch.save's legacy (pre-1.6) format opens with this pickled long: PROTO 2, LONG1 of 10 bytes
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def _is_plain_pickle(path: str) -> bool:
    """A pickle that is neither torch.save's zip nor its legacy format: ``pickle.dump`` wrote it,
    and torch.load can only fail on it ('Invalid magic number')."""
    with open(path, "rb") as handle:
        head = handle.read(len(LEGACY_TORCH_MAGIC))
    return head[:1] == b"\x80" and head != LEGACY_TORCH_MAGIC


def _names_torch(path: str) -> bool:
    """Whether the pickle names a torch class or function (a tensor does), read opcode by
    opcode without unpickling (nothing in the file runs)."""
    strings: list[str] = []
    with open(path, "rb") as handle:
        for opcode, arg, _ in pickletools.genops(handle):
            if opcode.name == "GLOBAL" and str(arg).split(" ")[0].split(".")[0] == "torch":
                return True
            if isinstance(arg, str):
                strings.append(arg)
            stacked = opcode.name == "STACK_GLOBAL" and len(strings) >= 2
            if stacked and strings[-2].split(".")[0] == "torch":
                return True
    return False


def _read_plain_pickle(path: str, *, trust_pickle: bool) -> Any:
    """The object of a ``pickle.dump`` file: refused unless it holds torch objects (a plain
    pickle with no tensors is no checkpoint) and the user trusts it (unpickling runs code)."""
    shown = display_path(path)
    try:
        with_torch = _names_torch(path)
    except Exception as exc:  # a pickle cut short, or bytes that only start like one
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    if not with_torch:
        raise NetscopeError(
            f"not a torch.save checkpoint: {shown} (a plain pickle with no tensors)", path=path
        )
    if not trust_pickle:
        raise NetscopeError(
            f"refused to open {shown}: a plain pickle (pickle.dump, not torch.save) holding torch "
            "objects that only full unpickling can rebuild, and unpickling runs code stored in "
            "the file",
            path=path,
            hint=f"{TRUST_HINT} Better: torch.save(model.state_dict(), path).",
        )
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception as exc:
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc


def is_torchscript(path: str) -> bool:
    """torch.jit.save archives are zips holding ``constants.pkl`` and compiled ``code/``."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in names) and any(
        "/code/" in n for n in names
    )


def _read_torchscript(path: str, *, trust_pickle: bool) -> Checkpoint:
    shown = display_path(path)
    if not trust_pickle:
        raise NetscopeError(
            f"{shown} is a TorchScript archive (written by torch.jit.save): a compiled module "
            "with its code, not a state_dict, so torch.load(weights_only=True) cannot open it",
            path=path,
            hint=f"Open it in Python with torch.jit.load({shown!r}). netscope shows it with "
            "--trust-pickle (it loads it with torch.jit.load; its TorchScript code runs on the "
            "example forward: only for files you trust).",
        )
    try:
        module = torch.jit.load(path, map_location="cpu")
    except Exception as exc:
        raise _corrupt(path, f"torch.jit.load: {type(exc).__name__}: {exc}") from exc
    note = (
        f"{shown} is a TorchScript archive, opened with torch.jit.load: its blocks are "
        "RecursiveScriptModule objects (each one's original class is its .original_name), and "
        "ScriptModules take no Python hooks, so netscope runs no forward on them (--input-shape "
        "is not used): blocks, parameters, buffers and ties are shown"
    )
    return Checkpoint(
        path, "torchscript", dict(module.state_dict()), module=module, files=(path,), notes=(note,)
    )


def _read_torch(
    path: str, *, trust_pickle: bool, values: bool, max_value_bytes: int | None
) -> Checkpoint:
    if not _looks_like_torch_save(path):  # nothing torch.load can read: say so before trying
        try:  # a safetensors file under another extension?
            header = read_safetensors_header(path)
        except NetscopeError:
            raise _corrupt(path, "it is neither a torch.save archive nor a pickle") from None
        return _read_safetensors(path, header, values=values, max_value_bytes=max_value_bytes)
    if is_torchscript(path):
        return _read_torchscript(path, trust_pickle=trust_pickle)
    if _is_plain_pickle(path):
        return _checkpoint_of(path, _read_plain_pickle(path, trust_pickle=trust_pickle))
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
    return _checkpoint_of(path, obj)


def _checkpoint_of(path: str, obj: Any) -> Checkpoint:
    """A whole module, or the tensors of a (nested) state_dict."""
    if isinstance(obj, nn.Module):
        return Checkpoint(path, "torch", dict(obj.state_dict()), module=obj, files=(path,))
    tensors, found_under, others = find_state_dict(obj)
    if not tensors:
        raise NetscopeError(
            f"{display_path(path)} holds no tensors (found {type(obj).__name__})", path=path
        )
    return Checkpoint(
        path, "torch", tensors, found_under=found_under, other_entries=others, files=(path,)
    )


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
    elif isinstance(obj, tuple) and prefix.rpartition(".")[2] == "_packed_params":
        # a quantized Linear's packed (weight, bias): named as the model snapshot names them
        holder = prefix.rpartition(".")[0]
        for name, value in zip(("weight", "bias"), obj, strict=False):
            if isinstance(value, torch.Tensor):
                out[f"{holder}.{name}" if holder else name] = value
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
