"""The one data model of netscope: frozen dataclasses the engine fills and all else reads.

Widgets render these, reports serialize them; nobody recomputes model facts from them. A value
that could not be measured is ``None`` ("not available"), never a fake zero.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeVar

from netscope.engine.compile_facts import CompileReport

Shape = tuple[int, ...]
Severity = Literal["error", "warning", "info"]
_Class = TypeVar("_Class", bound=type)


def quick_init(cls: _Class) -> _Class:
    """Give a frozen dataclass an ``__init__`` that fills the instance's ``__dict__`` at once.

    ``dataclass(frozen=True)`` sets each field through ``object.__setattr__``: 3.9 us for 11
    fields against 0.6 us for a plain class, and a snapshot of 20,000 blocks builds ~160,000
    rows (stats, gradients, parameters, blocks). Same signature and defaults, generated as
    dataclasses generates its own; the instances stay frozen (assignment still raises).
    """
    fields = dataclasses.fields(cls)
    if any(not f.init or f.default_factory is not dataclasses.MISSING for f in fields):
        raise TypeError(f"quick_init: {cls.__name__} has a field it cannot set")
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    params = ", ".join(
        f"{f.name}=_defaults[{f.name!r}]" if f.name in defaults else f.name for f in fields
    )
    stores = "".join(f"\n    values[{f.name!r}] = {f.name}" for f in fields)
    namespace: dict[str, object] = {"_defaults": defaults}
    exec(f"def __init__(self, {params}):\n    values = self.__dict__{stores}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    setattr(cls, "__init__", init)  # noqa: B010  (mypy rejects assigning a method)
    return cls


@quick_init
@dataclass(frozen=True)
class TensorStats:
    """Value statistics of one tensor; ``None`` where not computable (meta, empty, integer)."""

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    l2: float | None
    nan: int
    inf: int
    zero_fraction: float | None
    histogram: tuple[int, ...] = ()
    histogram_range: tuple[float, float] | None = None
    # what the figures describe: "values"; "dequantized" (a quantized tensor: the real values
    # its integers stand for); "magnitude" (a complex tensor: |z|)
    over: str = "values"


@quick_init
@dataclass(frozen=True)
class GradStats:
    """Gradient of a parameter after one backward pass of a scalar loss."""

    present: bool
    norm: float | None = None
    mean: float | None = None
    max_abs: float | None = None
    nan: int = 0
    inf: int = 0
    over: str = "values"  # "magnitude" for a complex gradient: mean and max_abs are of |g|


@dataclass(frozen=True)
class Quantization:
    """How a quantized tensor maps its integers to real values: ``real = (q - zero_point) * scale``.

    Per-tensor schemes have one ``scale``/``zero_point``; per-channel schemes have one per slice
    along ``axis``, summarized by their range.
    """

    scheme: str  # "per_tensor_affine", "per_channel_affine", "per_channel_affine_float_qparams"
    scale: float | None = None  # per-tensor schemes
    zero_point: int | None = None
    axis: int | None = None  # per-channel schemes
    channels: int | None = None
    scale_range: tuple[float, float] | None = None  # per-channel: smallest and largest scale
    zero_point_range: tuple[float, float] | None = None

    @property
    def summary(self) -> str:
        """``per_tensor_affine scale 0.0123 zero_point 0`` style text for the UI and reports."""
        if self.scale is not None:
            return f"{self.scheme} scale {self.scale:.4g} zero_point {self.zero_point}"
        low, high = self.scale_range or (float("nan"), float("nan"))
        zlow, zhigh = self.zero_point_range or (float("nan"), float("nan"))
        zeros = f"{zlow:g}" if zlow == zhigh else f"{zlow:g}..{zhigh:g}"
        return (
            f"{self.scheme} axis {self.axis}, {self.channels} scales {low:.4g}..{high:.4g}, "
            f"zero_point {zeros}"
        )


@dataclass(frozen=True)
class MeshInfo:
    """The device mesh a DTensor lives on: its shape and dimension names (None when unnamed)."""

    shape: tuple[int, ...]
    dim_names: tuple[str, ...] | None
    device_type: str

    @property
    def summary(self) -> str:
        """``(dp=2, tp=4) cpu`` or ``(2,) cpu``."""
        if self.dim_names is None:
            sizes = ", ".join(map(str, self.shape)) + ("," if len(self.shape) == 1 else "")
        else:
            sizes = ", ".join(f"{n}={s}" for n, s in zip(self.dim_names, self.shape, strict=False))
        return f"({sizes}) {self.device_type}"


@dataclass(frozen=True)
class FsdpUnit:
    """What ``fully_shard`` set on a block: reshard after forward (True, False, or the group
    size it reshards to) and the MixedPrecisionPolicy's dtypes (None: the parameter's own)."""

    reshard_after_forward: bool | int | None
    param_dtype: str | None = None
    reduce_dtype: str | None = None
    output_dtype: str | None = None
    parameters: int = 0  # parameters this unit all-gathers

    @property
    def summary(self) -> str:
        reshard = self.reshard_after_forward
        parts = [f"reshard_after_forward={reshard if reshard is not None else 'n/a'}"]
        for name in ("param_dtype", "reduce_dtype", "output_dtype"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        return ", ".join(parts)


# Roles of tensors that are not plain parameters/buffers (ParamInfo.role):
#   "packed": a quantized module's weight or bias, kept packed outside _parameters;
#   "pruned": weight_orig / weight_mask of torch.nn.utils.prune (weight = orig * mask);
#   "parametrized": the originals a parametrization (torch.nn.utils.parametrize, weight_norm,
#   spectral_norm) computes a tensor from.
TensorRole = Literal["", "packed", "pruned", "parametrized"]


@quick_init
@dataclass(frozen=True)
class ParamInfo:
    """A parameter or buffer of a block, under its qualified name."""

    name: str
    block: str
    attribute: str
    kind: Literal["parameter", "buffer"]
    shape: Shape | None  # None while uninitialized (lazy)
    dtype: str
    device: str
    numel: int | None
    bytes: int | None
    requires_grad: bool
    initialized: bool
    was_lazy: bool  # uninitialized when the model was built; materialized by the example forward
    persistent: bool  # saved in state_dict (non-persistent buffers are not)
    stats: TensorStats | None
    grad: GradStats | None  # None: no backward ran
    tie_group: int | None = None  # index into Snapshot.ties
    quantization: Quantization | None = None  # quantized dtypes (qint8, quint8...) only
    role: TensorRole = ""
    note: str = ""  # plain words on what a tensor with a role is
    # a DTensor (FSDP2, tensor parallel): ``shape`` is the global shape, ``local_shape`` this
    # rank's shard, ``numel``/``bytes`` global; value statistics describe the local shard only
    local_shape: Shape | None = None  # None when not sharded
    placements: tuple[str, ...] | None = None  # ("Shard(dim=0)",); None when not a DTensor
    mesh: MeshInfo | None = None

    @property
    def unused(self) -> bool:
        """Requires grad but got none from the backward pass."""
        return (
            self.kind == "parameter"
            and self.requires_grad
            and (self.grad is not None and not self.grad.present)
        )

    @property
    def has_nonfinite(self) -> bool:
        return self.stats is not None and (self.stats.nan > 0 or self.stats.inf > 0)


@quick_init
@dataclass(frozen=True)
class OutputInfo:
    """One tensor of a block's output; ``label`` locates it in nested outputs ("0", "logits")."""

    label: str
    shape: Shape
    dtype: str


@quick_init
@dataclass(frozen=True)
class ActivationStats:
    mean: float | None
    std: float | None
    zero_fraction: float | None


@quick_init
@dataclass(frozen=True)
class UnregisteredTensor:
    """A tensor attribute, neither parameter nor buffer: not saved, not moved by ``.to()``."""

    module: str
    attribute: str
    shape: Shape
    dtype: str
    device: str


@dataclass(frozen=True)
class DerivedTensor:
    """A tensor attribute torch recomputes from registered tensors: not a defect, not saved.

    ``weight`` of a pruned Linear is ``weight_orig * weight_mask``, rebuilt before each forward;
    a parametrized ``weight`` is computed on every access from ``parametrizations.weight.*``.
    """

    module: str
    attribute: str
    kind: Literal["pruning", "parametrization", "weight_norm", "spectral_norm"]
    method: str  # "L1Unstructured", "_WeightNorm", "_Orthogonal", "WeightNorm"...
    sources: tuple[str, ...]  # qualified names of the tensors it is computed from
    how: str  # "weight = weight_orig * weight_mask"

    @property
    def name(self) -> str:
        return f"{self.module}.{self.attribute}" if self.module else self.attribute


@quick_init
@dataclass(frozen=True)
class BlockInfo:
    """One module of the tree, at the path ``named_modules()`` gives it ("" is the root)."""

    path: str
    name: str
    type: str
    type_module: str
    custom: bool  # user-defined class rather than a torch.nn built-in
    source: str | None  # "file.py:LINE" of the class, for custom blocks
    depth: int
    parent: str | None
    children: tuple[str, ...]
    # Parameter counts, tied counted once. A lazy parameter has no size until the first forward:
    # None when every parameter counted is lazy; a lower bound when uninitialized_params > 0
    params: int | None  # own parameters (direct)
    total_params: int | None  # whole subtree
    parameter_names: tuple[str, ...]
    buffer_names: tuple[str, ...]
    calls: int | None  # None: no forward ran, or a container (never called itself)
    outputs: tuple[OutputInfo, ...] = ()
    activation: ActivationStats | None = None
    aliases: tuple[str, ...] = ()  # other paths of the same module object (block reuse)
    unregistered: tuple[UnregisteredTensor, ...] = ()
    # never called, but its weights were operands of an op run by this block's forward
    # (nn.MultiheadAttention passes out_proj.weight to a functional op): "" is the root
    weights_used_by: str | None = None
    derived: tuple[DerivedTensor, ...] = ()
    # FLOPs of the example step, this block and everything under it, every call added up;
    # None: not counted (no forward ran; no backward ran)
    forward_flops: int | None = None
    backward_flops: int | None = None
    saved_bytes: int | None = None  # activations saved for backward (each storage once)
    # The same figures of the ops this block ran itself, outside its child blocks (computed once
    # by engine/self_figures.py); None also where that is not known (a child reused elsewhere)
    self_forward_flops: int | None = None
    self_backward_flops: int | None = None
    self_saved_bytes: int | None = None
    uninitialized_params: int = 0  # lazy parameters in the subtree the counts leave out
    # ModuleList, ModuleDict, a bare nn.Module: never called itself (its children are), so its
    # calls are not available rather than 0
    container: bool = False

    fsdp: FsdpUnit | None = None  # a block ``fully_shard`` wrapped (an FSDP2 unit)
    parallel_style: str | None = None  # "ColwiseParallel", "RowwiseParallel"...: tensor parallel
    parallel_style_how: str = ""  # "hook" (read from its hooks) or "inferred from placements"

    @property
    def fsdp_unit(self) -> bool:
        return self.fsdp is not None

    @property
    def shared(self) -> bool:
        return bool(self.aliases) or (self.calls is not None and self.calls > 1)

    @property
    def unused(self) -> bool:
        """Never called and its weights never used: it took no part in the example forward."""
        return self.calls == 0 and self.weights_used_by is None


@dataclass(frozen=True)
class TieGroup:
    """Names that share one Parameter or overlapping storage; counted once everywhere."""

    names: tuple[str, ...]
    numel: int | None
    how: Literal["same parameter", "shared storage"]

    @property
    def note(self) -> str:
        return (
            f"{len(self.names)} names, one tensor: counted once; its gradient is the sum "
            "of the gradients from every use"
        )


def tie_label(group: int) -> str:
    """A tie group's name on screen and in reports: its index in ``Snapshot.ties`` (the JSON's
    ``tie_group``), so every view and the JSON name a group alike."""
    return f"tie group {group}"


@dataclass(frozen=True)
class Mismatch:
    key: str
    model_shape: Shape | None
    checkpoint_shape: Shape | None
    model_dtype: str
    checkpoint_dtype: str
    kind: Literal["shape", "dtype"]


@dataclass(frozen=True)
class CheckpointDiff:
    """How a checkpoint's keys line up with the model's state_dict."""

    path: str
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[Mismatch, ...]
    covered_by_tie: tuple[tuple[str, str], ...]  # (key left out, key that stores it)
    loaded: int = 0
    stripped_prefix: str = ""  # on every matched key ("module."), removed to match the model
    notes: tuple[str, ...] = ()  # plain words: the prefix and what to do, "one shard of 4"...

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def about(self, name: str) -> str:
        """What the checkpoint did to the model's tensor ``name``; "" when it loaded it as is."""
        if name in self.missing:
            return "not in the checkpoint: the model's own initial values"
        stored = next((by for key, by in self.covered_by_tie if key == name), None)
        if stored is not None:
            return f"loaded through its tie: the checkpoint stores it once, as {stored}"
        for m in self.mismatched:
            if m.key == name and m.kind == "shape":
                return (
                    f"NOT loaded: shape {list(m.checkpoint_shape or ())} in the checkpoint, "
                    f"{list(m.model_shape or ())} in the model (its own initial values kept)"
                )
            if m.key == name:
                return f"loaded with a cast: {m.checkpoint_dtype} in the checkpoint"
        return ""


@dataclass(frozen=True)
class Finding:
    """Something a user should know: an unused parameter, NaNs, weights on two devices..."""

    severity: Severity
    code: str
    message: str
    subject: str = ""  # block path or parameter name
    location: str | None = None  # "file.py:LINE"


@dataclass(frozen=True)
class ForwardInfo:
    """What the example forward (and backward) did, or why it did not run."""

    ran: bool
    input_summary: str = ""
    backward_ran: bool = False
    loss_source: str = ""  # "loss(output, batch)" or "mean of floating outputs"
    note: str = ""  # plain words: what is missing and how to add it


@dataclass(frozen=True)
class UncountedOp:
    """An op that computes but has no FLOP formula (elementwise, norms, softmax...)."""

    op: str  # "gelu.default"
    count: int


@dataclass(frozen=True)
class Compute:
    """FLOPs of the example step (2 x multiply-adds), counted from the ops that ran."""

    forward_flops: int
    backward_flops: int | None  # None: no backward ran
    attention: Literal["causal", "full", "mixed"] | None  # None: no scaled_dot_product_attention
    uncounted_ops: tuple[UncountedOp, ...] = ()

    @property
    def step_flops(self) -> int:
        return self.forward_flops + (self.backward_flops or 0)


@dataclass(frozen=True)
class Memory:
    """What the example step holds in device memory, in bytes (tied storage once)."""

    params_bytes: int
    grads_bytes: int | None  # None: no backward ran
    optimizer_bytes: int | None  # None: no optimizer step (--train)
    activations_bytes: int | None  # saved for backward; None: the forward ran without grad
    peak_bytes: int | None
    peak_at: str  # "forward (layers.3.mlp)", "backward (...)", "optimizer.step()"
    how: Literal["measured", "estimated"]
    device: str
    buffers_bytes: int = 0
    optimizer: str | None = None  # "adamw": the update the --train step used
    note: str = ""
    # the same step replayed on meta (what --fit rests on) beside a measured peak; None: not
    # replayed, or the peak is the replay (meta)
    replay_peak_bytes: int | None = None
    replay_differs: str = ""  # why the measured peak and the replay differ; "" when equal


@dataclass(frozen=True)
class PerDevice:
    """One GPU's memory in a planned layout (bytes): what it holds and its high-water mark."""

    params_bytes: int
    grads_bytes: int | None  # None: no backward (inference)
    optimizer_bytes: int | None
    activations_bytes: int
    comm_buffers_bytes: int  # gathered parameters, all-gather / reduce-scatter, DDP buckets
    peak_bytes: int
    peak_at: str


@dataclass(frozen=True)
class FitVerdict:
    """Will the step fit ``device``: its usable memory against what the step needs."""

    device: str  # "H100", "24GiB"
    capacity_bytes: int  # usable: the device's memory less the CUDA context allowance
    needed_bytes: int
    fits: bool
    margin_bytes: int  # capacity - needed (negative: short by that much)
    max_batch: int | None  # the largest batch that fits; None: not available
    step: str  # "inference" or "train (adamw)"
    context_bytes: int = 0
    batch: int | None = None  # the example's batch size
    note: str = ""
    devices: int = 1  # N GPUs: data-parallel x tensor-parallel
    shard: str = "none"  # none, ddp, zero1, zero2, fsdp
    precision: str = "fp32"  # fp32, bf16, fp16, bf16-mixed, fp16-mixed
    tp: int = 1
    units: tuple[str, ...] = ()  # FSDP units below the root (the root is always one)
    checkpoint: tuple[str, ...] = ()  # the blocks checkpointed (non-reentrant)
    recompute_flops: int | None = None  # forward FLOPs the checkpointed blocks run again
    per_device: PerDevice | None = None  # one GPU's share; None: the one-GPU fit of old
    min_devices: int | None = None  # the fewest GPUs of this kind that fit; None: none found
    checkpoint_code: str = ""  # the choice as code to paste (apply_activation_checkpointing)


@dataclass(frozen=True)
class Snapshot:
    """Everything netscope knows about one model or checkpoint, without timing."""

    target: str
    kind: Literal["model", "checkpoint"]
    model_class: str
    device: str
    blocks: tuple[BlockInfo, ...]  # pre-order, root first
    parameters: tuple[ParamInfo, ...]
    buffers: tuple[ParamInfo, ...]
    ties: tuple[TieGroup, ...]
    unregistered: tuple[UnregisteredTensor, ...]
    forward: ForwardInfo
    # unique: tied counted once; lazy parameters (no size yet) left out, see uninitialized_params,
    # None when all are lazy; trainable None also for a checkpoint alone (no requires_grad)
    total_params: int | None
    trainable_params: int | None
    total_bytes: int | None
    checkpoint: CheckpointDiff | None = None
    findings: tuple[Finding, ...] = ()
    source: str | None = None  # "model.py:LINE" of the factory or class
    devices: tuple[str, ...] = field(default=())
    derived: tuple[DerivedTensor, ...] = ()  # pruned / parametrized tensors, every block
    compute: Compute | None = None  # None: no example forward ran
    memory: Memory | None = None
    fit: FitVerdict | None = None  # None: no --fit asked

    @cached_property
    def block_by_path(self) -> dict[str, BlockInfo]:
        return {block.path: block for block in self.blocks}

    @cached_property
    def uninitialized_params(self) -> int:
        """Lazy parameters (a tie group once) that no count includes: totals are lower bounds."""
        lazy = (p for p in self.parameters if not p.initialized)
        return len({p.name if p.tie_group is None else p.tie_group for p in lazy})

    def own_uninitialized(self, block: BlockInfo) -> int:
        """A block's own lazy parameters: its own count leaves them out (or is None: all are)."""
        if block.params is None:
            return block.uninitialized_params
        tensors = self.tensor_by_name
        return sum(not tensors[name].initialized for name in block.parameter_names)

    @cached_property
    def tensor_by_name(self) -> dict[str, ParamInfo]:
        return {p.name: p for p in (*self.parameters, *self.buffers)}

    def tie_members(self, name: str) -> tuple[str, ...]:
        """All names tied to ``name`` (itself included), or just ``(name,)``."""
        info = self.tensor_by_name.get(name)
        if info is None or info.tie_group is None:
            return (name,)
        return self.ties[info.tie_group].names


# --- profiling results (filled by the profiler; see netscope/engine/profiler) ---------------------


@dataclass(frozen=True)
class TimingSummary:
    """Step time on one device: distribution of the timed runs after warm-up."""

    device: str
    median_ms: float
    p10_ms: float
    p90_ms: float
    min_ms: float
    max_ms: float
    runs: int
    samples_ms: tuple[float, ...] = ()
    spread_pct: float | None = None  # (p90 - p10) / median, in percent
    other_cpu_pct: float | None = None  # CPU share other processes used while timing; None: n/a
    noise: str | None = None  # why this number is not to be trusted; None when it is steady

    @property
    def noisy(self) -> bool:
        return self.noise is not None


@dataclass(frozen=True)
class BlockTiming:
    """Inclusive and self time of one block on one device, from the hooked pass."""

    path: str
    device: str
    inclusive_ms: float | None
    self_ms: float | None
    calls: int


@dataclass(frozen=True)
class CopyFinding:
    """Host-device copies from one source line and block, aggregated over one step."""

    direction: str  # "H2D", "D2H", "D2D", "H2META", "META2H", ...
    bytes: int
    count: int
    dtype: str
    pinned: bool | None  # source in pinned memory; None: not applicable / not known
    non_blocking: bool
    block: str
    location: str | None  # "path/to/file.py:LINE", first frame outside torch and netscope
    many_small: bool = False


@dataclass(frozen=True)
class SyncFinding:
    """An operation that makes the host wait for a device value, aggregated per place."""

    op: str
    reason: str
    count: int
    block: str
    location: str | None
    stall_ms: float | None  # measured host wait on CUDA; None on CPU ("would sync on CUDA")
    device: str = "cpu"


Gate = Literal["syncs", "copies", "bytes copied", "peak memory", "fit"]


@dataclass(frozen=True)
class Violation:
    """A limit of ``netscope check`` the step went over (report/check_text.py writes it): one per
    sync or copy finding that adds to a total over its limit, one for the memory gates."""

    gate: Gate
    total: int | None  # the step's figure; None: not measured, so the limit cannot be checked
    limit: int | None  # the limit (--fit: the device's usable bytes)
    finding: SyncFinding | CopyFinding | None = None  # the place that added to ``total``


@dataclass(frozen=True)
class GilReport:
    """How late a heartbeat thread got to run while the step ran (interpreter-lock pressure)."""

    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    late_share: float | None  # fraction of beats later than 1 ms
    beats: int


@dataclass(frozen=True)
class GpuSample:
    """One GPU's readings from NVML; every field may be not available (None)."""

    index: int
    name: str | None = None
    utilization_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    pcie_tx_kbps: float | None = None
    pcie_rx_kbps: float | None = None
    power_watts: float | None = None
    temperature_c: float | None = None


@dataclass(frozen=True)
class SystemSample:
    time_s: float
    process_cpu_percent: float | None
    rss_bytes: int | None
    per_core_percent: tuple[float, ...] = ()
    gpus: tuple[GpuSample, ...] = ()


@dataclass(frozen=True)
class ComputeRate:
    """FLOP/s one device achieved on the timed step, and MFU against its dense peak."""

    device: str
    achieved_flops_per_s: float | None  # None: the step's FLOPs or its time are not known
    peak_flops_per_s: float | None  # None: no peak for this device and dtype (the CPU)
    mfu: float | None  # achieved / peak, 0..1; None without a peak
    peak_source: str = ""  # "H100 bfloat16 dense", "--peak-tflops"


@dataclass(frozen=True)
class Profile:
    """Everything one profiling session measured; reports serialize it as ``profile``."""

    devices: tuple[TimingSummary, ...]
    blocks: tuple[BlockTiming, ...]
    copies: tuple[CopyFinding, ...]
    syncs: tuple[SyncFinding, ...]
    gil: GilReport | None
    system: SystemSample | None = None
    step: str = ""  # "step(model, batch)", "forward (eval, no grad)", "train step"
    flops_per_step: int | None = None  # the model's counted FLOPs in one timed step
    rates: tuple[ComputeRate, ...] = ()  # per timed device
    step_backward: bool = False  # the timed step ran a backward (--train, or seen in step())
    step_autocast: str | None = None  # the dtype autocast ran the step's forward in

    @property
    def sync_count(self) -> int:
        """Sync points per step, every occurrence counted."""
        return sum(s.count for s in self.syncs)

    @property
    def copy_count(self) -> int:
        """Host-device copies per step, every occurrence counted."""
        return sum(c.count for c in self.copies)

    @property
    def copy_bytes(self) -> int:
        """Bytes copied between devices per step."""
        return sum(c.bytes for c in self.copies)


# --- `netscope run`: a user's own script, watched while it runs (see netscope/engine/run) -----


@dataclass(frozen=True)
class Spread:
    """Median and 10th / 90th percentiles of a series of times (ms)."""

    median: float
    p10: float
    p90: float


@dataclass(frozen=True)
class StepPhases:
    """Where a step's time went (ms). ``other`` is the rest of the step: logging, the loop."""

    data: float
    forward: float
    backward: float
    optimizer: float
    other: float


@dataclass(frozen=True)
class LoopSync:
    """A sync place of the script's loop, over its sampled steps.

    ``finding.count`` is every occurrence on the sampled steps together; ``per_step`` is that
    count divided by ``sampled_steps``; ``seen_steps`` the sampled steps it happened on.
    """

    finding: SyncFinding
    per_step: float
    seen_steps: int
    sampled_steps: int


@dataclass(frozen=True)
class LoopCopy:
    """A host-device copy place of the script's loop, over its sampled steps (as ``LoopSync``)."""

    finding: CopyFinding
    per_step: float
    seen_steps: int
    sampled_steps: int


@dataclass(frozen=True)
class RunModel:
    """A root block the script called: ``main`` (the model the stepping optimizer updates, or
    the one called in an inference loop), ``trained`` (another optimizer updates it: a GAN's
    second network) or ``called`` (its parameters are never stepped: a frozen teacher, an EMA)."""

    model_class: str
    total_params: int
    role: Literal["main", "trained", "called"]


@dataclass(frozen=True)
class ScriptError:
    """What the script raised (or why it ended abnormally), at the script's own line."""

    type: str  # "ValueError", "SyntaxError", "FileNotFoundError", "signal"
    message: str
    location: str | None  # "train.py:LINE"
    traceback: str = ""


RunState = Literal["starting", "running", "finished", "crashed", "stopped"]


@dataclass(frozen=True)
class RunMemory:
    """The script's memory per step, read at each step boundary (netscope/engine/run/memory.py)."""

    how: Literal["cuda allocated", "process rss"]
    peak_bytes: int | None  # CUDA: max_memory_allocated per step; the CPU: the largest RSS read
    growth_bytes_per_step: int | None  # Theil-Sen slope after warm-up; None: too few steps
    growing: bool = False  # a consistent rise, well above the allocator's and RSS's wobble
    note: str | None = None  # the growth in plain words, when growing
    samples: int = 0  # step boundaries read


@dataclass(frozen=True)
class RunReport:
    """Everything ``netscope run`` recorded about one run of a script; reports serialize it."""

    argv: tuple[str, ...]  # the script (or -m module) and its arguments, as given
    state: RunState
    exit_code: int | None  # None while the script runs
    steps: int
    step_boundary: Literal["optimizer.step", "forward"] | None  # None: no step seen
    step_ms: Spread | None  # over the steps that were not sampled for detection
    phases_ms: StepPhases | None  # median of each phase per step
    syncs: tuple[LoopSync, ...] = ()
    copies: tuple[LoopCopy, ...] = ()
    sampled_steps: int = 0
    sample_every: int | None = None  # 1 in N steps runs the detectors (the last N chosen)
    models: tuple[RunModel, ...] = ()
    gil: GilReport | None = None
    system: SystemSample | None = None
    error: ScriptError | None = None
    notes: tuple[str, ...] = ()
    snapshot: Snapshot | None = None  # the main model, as `netscope model.py` shows it
    recent_step_ms: tuple[float, ...] = ()  # the last steps, for live charts
    blocks: tuple[BlockTiming, ...] = ()  # the main model's blocks, ms per step (timed steps)
    block_timed_steps: int = 0  # steps the block clock ran on (left out of step_ms)
    # several ranks (netscope run --nproc-per-node, netscope collect); empty / None for one process
    ranks: tuple[RankRun, ...] = ()

    def none_seen(self, what: str) -> str:
        """What "no syncs" (``what``) means in this run: in how many sampled steps of how many,
        and that a sync made on fewer steps than that can be missed; none sampled: not
        measured, not 0."""
        if not self.sampled_steps:
            return f"Not measured: no step was sampled for {what}."
        text = f"No {what} in the {self.sampled_steps:,} sampled step(s)"
        if self.steps > self.sampled_steps:
            return (
                f"{text} of {self.steps:,}: one made on fewer steps than that (a loss printed "
                "every 20 steps) can be missed; `netscope run --every 1` records every step."
            )
        return text + "."

    straggler: int | None = None  # the rank the others wait for; None: skew under 5%
    skew_pct: float | None = None  # spread of the ranks' waits, percent of the median step
    world_size: int | None = None
    # compute and memory of the loop (netscope/engine/run/aggregate.py)
    flops_per_step: int | None = None  # one counted step of the script's own: forward + backward
    achieved_flops_per_s: float | None = None  # flops_per_step / median step time
    mfu: float | None = None  # achieved / peak, 0..1; None without a peak (the CPU)
    peak_flops_per_s: float | None = None  # the main model's device's dense peak
    peak_source: str = ""  # "H100 bfloat16 dense", "--peak-tflops"
    model_calls_per_step: float | None = None  # median calls of the main model per step
    memory: RunMemory | None = None
    # the counted step's memory (params, grads, optimizer state, saved activations, peak): this
    # process's (a rank's local shards); also the snapshot's ``memory`` when the snapshot exists
    step_memory: Memory | None = None
    compile: CompileReport | None = None  # what torch.compile did; None: nothing was compiled


@dataclass(frozen=True)
class CollectiveStat:
    """One kind of collective a rank ran from one block, per step (median over its plain steps).

    ``via``: "fsdp" (FSDP2's all-gather / reduce-scatter), "dtensor" (tensor parallel's
    functional collectives), "ddp" (DDP's gradient all-reduce) or "script"; ``block``: the FSDP
    unit or the module that issued it (None: not known, e.g. a tensor-parallel backward).
    """

    kind: str  # "all_gather", "reduce_scatter", "all_reduce", "broadcast", "barrier"...
    via: str
    block: str | None
    calls_per_step: float
    ms_per_step: float  # launch to completion, every call added up
    exposed_ms_per_step: float | None  # the rank blocked waiting for it; None: not told
    bytes_per_step: int  # all-gather: its output; reduce-scatter: its input; all-reduce: tensor
    exposed_steps: int | None = 0  # plain steps where some of it was exposed; None: not told
    steps: int = 0  # plain steps it was measured over


@dataclass(frozen=True)
class RankRun:
    """One rank of a torchrun job: who it is, its own run, and its wait in collectives."""

    rank: int
    host: str
    local_rank: int
    node_rank: int
    report: RunReport  # the rank's own run, as one process's (its syncs, copies, error)
    wait_ms: Spread | None  # wait in collectives per step, over the same steps as step_ms
    busy_ms: float | None  # median step minus median wait: the straggler's is the largest
    collectives: tuple[CollectiveStat, ...] = ()  # by kind and issuing block

    @property
    def memory_peak(self) -> tuple[int | None, str]:
        """(bytes, how): the peak of this rank's counted step (``ranks[].memory``), else the
        loop's own reading (the CUDA allocator, the process RSS); (None, "") when neither."""
        counted, loop = self.report.step_memory, self.report.memory
        if counted is not None and counted.peak_bytes is not None:
            return counted.peak_bytes, f"counted step, {counted.how}"
        if loop is not None and loop.peak_bytes is not None:
            return loop.peak_bytes, loop.how
        return None, ""
