"""What the user asked for: one picklable value shared by the CLI, the worker and the app."""

from __future__ import annotations

import re
from dataclasses import dataclass

STATS_LIMIT_BYTES = 256 * 2**20  # checkpoints above this are read as metadata unless --stats
OPTIMIZER_CHOICES = ("sgd", "sgd-momentum", "adam", "adamw")  # --optimizer of a --train step


def split_target(target: str) -> tuple[str, str | None]:
    """``model.py:NAME`` -> (``model.py``, ``NAME``); a plain path has no name."""
    head, sep, name = target.rpartition(":")
    if sep and head.endswith(".py") and name.isidentifier():
        return head, name
    return target, None


@dataclass(frozen=True)
class LoadOptions:
    """A target and how to load it: ``model.py``, ``model.py:NAME`` or a checkpoint."""

    target: str
    weights: str | None = None
    device: str = "cpu"
    input_shape: tuple[int, ...] | None = None
    input_dtype: str = "float32"
    trust_pickle: bool = False
    backward: bool = True  # run one backward pass for gradient statistics
    all_stats: bool = False  # value statistics for a checkpoint of any size (reads every value)
    train: bool = False  # the step is forward + loss + backward + an optimizer update
    optimizer: str = "sgd"  # the update of a --train step: sgd, sgd-momentum, adam, adamw
    dtype: str | None = None  # cast the model's floating parameters first: "bfloat16"...
    fit: str | None = None  # "H100", "8xH100", "24GiB": will the step fit N such devices
    shard: str | None = None  # none, ddp, zero1, zero2, fsdp; None: ddp when N > 1, else none
    shard_units: str | None = None  # FSDP units: a path or class glob (default: repeated blocks)
    tp: int = 1  # tensor-parallel degree (of the N devices)
    precision: str | None = None  # fp32, bf16, fp16, bf16-mixed, fp16-mixed; None: from dtype
    checkpoint: str = "none"  # activation checkpointing: none, all, auto, PATTERN[,PATTERN]
    memory_budget: int | None = None  # bytes the step's peak may take (no context allowance)

    @property
    def planned(self) -> bool:
        """A layout beyond one GPU's plain step was asked (netscope/engine/plan)."""
        multi = bool(self.fit and re.match(r"^\s*\d+\s*[xX]", self.fit))
        mixed = (self.precision or "").endswith("-mixed")
        return (
            multi or mixed or self.shard not in (None, "none") or self.tp > 1
            or self.checkpoint != "none" or self.memory_budget is not None
            or self.shard_units is not None
        )  # fmt: skip

    @property
    def target_path(self) -> str:
        """The file or folder of ``target`` (``model.py`` of ``model.py:NAME``)."""
        return split_target(self.target)[0]

    @property
    def profilable(self) -> bool:
        """A model on meta has no values to time: it is described, never profiled."""
        return self.device != "meta"

    @property
    def stats_limit(self) -> int | None:
        """Bytes of checkpoint values read for statistics; None: no limit (``--stats``)."""
        return None if self.all_stats else STATS_LIMIT_BYTES


@dataclass(frozen=True)
class ProfileOptions:
    """How the profiler measures; see netscope/engine/profiler. The step it times is the one
    ``LoadOptions`` describes (``train``, ``optimizer``), so snapshot and profile agree."""

    devices: tuple[str, ...] | None = None  # None: cpu plus every CUDA device present
    min_runs: int = 10
    max_seconds: float = 5.0  # time budget for the timed runs per device
    timeout_s: float = 300.0  # the worker is stopped past this
    continuous: bool = False  # the app's live timing: every moment, or a light ~10% duty cycle
    peak_tflops: float | None = None  # the device's peak for MFU, where netscope has none
