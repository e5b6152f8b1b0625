"""A run's layout as asked: how many GPUs, how the model is sharded, in which precision, which
blocks are checkpointed. Parsed from the options once; the replay and the reports read it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from netscope.engine.errors import NetscopeError

SHARDS = ("none", "ddp", "zero1", "zero2", "fsdp")
PRECISIONS = ("fp32", "bf16", "fp16", "bf16-mixed", "fp16-mixed")
DTYPE_PRECISION = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}  # --dtype alias
_COUNT = re.compile(r"^\s*(\d+)\s*[xX]\s*(\S.*)$")


def split_devices(fit: str) -> tuple[int, str]:
    """``8xH100`` -> (8, ``H100``); ``H100`` -> (1, ``H100``)."""
    count = _COUNT.match(fit)
    if count is None:
        return 1, fit.strip()
    n = int(count.group(1))
    if n < 1:
        raise NetscopeError(f"--fit {fit}: the GPU count must be at least 1")
    return n, count.group(2).strip()


@dataclass(frozen=True)
class Layout:
    """N GPUs (data-parallel x tensor-parallel), the sharding, precision and checkpointing."""

    devices: int = 1
    shard: str = "none"
    tp: int = 1
    precision: str = "fp32"
    checkpoint: str = "none"  # none | all | auto | PATTERN[,PATTERN]
    shard_units: str | None = None  # a path or class glob; None: repeated blocks + root

    @property
    def data_parallel(self) -> int:
        return self.devices // self.tp

    @property
    def mixed(self) -> bool:
        return self.precision.endswith("-mixed")


def layout_of(
    fit: str | None,
    shard: str | None,
    tp: int,
    precision: str | None,
    dtype: str | None,
    checkpoint: str,
    shard_units: str | None,
) -> Layout:
    """The layout the options ask for (default shard: ddp when N > 1, else none)."""
    devices = split_devices(fit)[0] if fit else 1
    shard = shard or ("ddp" if devices > 1 else "none")
    if shard not in SHARDS:
        raise NetscopeError(f"--shard {shard}: not a layout", hint=f"one of {', '.join(SHARDS)}")
    precision = precision or DTYPE_PRECISION.get(dtype or "float32", "fp32")
    if precision not in PRECISIONS:
        raise NetscopeError(
            f"--precision {precision}: not known", hint=f"one of {', '.join(PRECISIONS)}"
        )
    if tp < 1 or devices % tp:
        raise NetscopeError(
            f"--tp {tp}: the GPU count {devices} is not a multiple of it",
            hint="N GPUs = data-parallel x tensor-parallel: --fit 8xH100 --tp 8, or --tp 2",
        )
    return Layout(devices, shard, tp, precision, checkpoint or "none", shard_units)


def tp_heads_error(model: object, tp: int) -> str:
    """Why transformers' own tensor-parallel plan cannot split ``model`` over ``tp`` GPUs: its
    attention heads (or key/value heads) do not divide by ``tp`` (each GPU takes whole heads; a
    split of a head makes the attention's reshape fail); "" when they divide."""
    config = getattr(model, "config", None)
    if tp <= 1 or config is None or not getattr(config, "base_model_tp_plan", None):
        return ""
    heads = getattr(config, "num_attention_heads", None)
    kv = getattr(config, "num_key_value_heads", None)
    counts = [(n, what) for n, what in ((heads, "attention"), (kv, "key/value")) if n]
    bad = [f"{n} {what} heads" for n, what in counts if isinstance(n, int) and n % tp]
    if not bad:
        return ""
    return f"{type(model).__name__}'s {' and '.join(bad)} do not divide by {tp}"
