"""Hand-built Snapshot and Profile with every section filled, for tests that need all of them.

The snapshot mirrors sample_models/shared_layer.py plus an unregistered tensor, a lazy parameter,
a checkpoint diff and findings; the profile has realistic CPU and CUDA figures.
"""

from __future__ import annotations

import math

from netscope.engine.model import (
    BlockInfo,
    BlockTiming,
    CheckpointDiff,
    Compute,
    ComputeRate,
    CopyFinding,
    Finding,
    FitVerdict,
    ForwardInfo,
    GilReport,
    GpuSample,
    GradStats,
    Memory,
    Mismatch,
    OutputInfo,
    ParamInfo,
    Profile,
    Snapshot,
    SyncFinding,
    SystemSample,
    TensorStats,
    TieGroup,
    TimingSummary,
    UncountedOp,
    UnregisteredTensor,
)
from netscope.engine.self_figures import with_self_figures


def _stats(mean: float, std: float) -> TensorStats:
    return TensorStats(
        mean,
        std,
        mean - 2 * std,
        mean + 2 * std,
        3.1416,
        0,
        0,
        0.0,
        (1, 4, 6, 4, 1),
        (mean - 2 * std, mean + 2 * std),
    )


def _param(name: str, shape, *, tie: int | None = None, grad: bool = True, lazy=False) -> ParamInfo:
    block, _, attribute = name.rpartition(".")
    numel = None if shape is None else math.prod(shape)
    return ParamInfo(
        name=name,
        block=block,
        attribute=attribute,
        kind="parameter",
        shape=shape,
        dtype="float32",
        device="cpu",
        numel=numel,
        bytes=None if numel is None else numel * 4,
        requires_grad=True,
        initialized=shape is not None,
        was_lazy=lazy,
        persistent=True,
        stats=None if shape is None else _stats(0.01, 0.25),
        grad=None
        if shape is None
        else GradStats(grad, 0.5 if grad else None, 0.001 if grad else None, 0.2 if grad else None),
        tie_group=tie,
    )


def _block(
    path,
    type_,
    children=(),
    *,
    params=0,
    total=0,
    calls=1,
    custom=False,
    aliases=(),
    step=None,
    lazy=0,
):
    forward_flops, backward_flops, saved_bytes = step or (None, None, None)
    return BlockInfo(
        path=path,
        name=path.rpartition(".")[2],
        type=type_,
        type_module="sample" if custom else "torch.nn.modules.linear",
        custom=custom,
        source="sample_models/handmade.py:12" if custom else None,
        depth=path.count(".") + bool(path),
        parent=None if path == "" else "",
        children=tuple(children),
        params=params,
        total_params=total,
        uninitialized_params=lazy,
        parameter_names=(),
        buffer_names=(),
        calls=calls,
        outputs=(OutputInfo("", (2, 8), "float32"),),
        aliases=tuple(aliases),
        forward_flops=forward_flops,
        backward_flops=backward_flops,
        saved_bytes=saved_bytes,
    )


def handmade_snapshot() -> Snapshot:
    rand_weight = UnregisteredTensor("", "rand_weight", (8, 8), "float32", "cpu")
    # (forward FLOPs, backward FLOPs, saved bytes), each with the children: the root's own ops
    # add 2,000,000 forward FLOPs, 6,000,000 backward (an attention call) and 96 saved bytes
    root = ["0", "1", "2", "4", "lazy"]
    blocks = (
        _block(
            "", "SharedNet", root, total=129, custom=True, step=(2_000_640, 6_001_152, 448), lazy=1
        ),
        _block("0", "Linear", params=40, total=40, step=(128, 128, 32)),
        _block("1", "ReLU", calls=3, step=(0, 0, 192)),
        _block("2", "Linear", params=72, total=72, calls=2, aliases=("4",), step=(512, 1024, 128)),
        _block("4", "Linear", params=72, total=72, calls=2, aliases=("2",), step=(512, 1024, 128)),
        _block("lazy", "LazyLinear", params=None, total=None, calls=0, step=(0, 0, 0), lazy=1),
    )
    parameters = (
        _param("0.weight", (8, 4)),
        _param("0.bias", (8,)),
        _param("2.weight", (8, 8), tie=0),
        _param("2.bias", (8,), tie=1),
        _param("4.weight", (8, 8), tie=0),
        _param("4.bias", (8,), tie=1),
        _param("lazy.weight", None, lazy=True),
        _param("6.weight", (1, 8), grad=False),
    )
    buffers = (
        ParamInfo(
            "norm.running_mean",
            "norm",
            "running_mean",
            "buffer",
            (8,),
            "float32",
            "cpu",
            8,
            32,
            False,
            True,
            False,
            False,
            _stats(0.0, 1.0),
            None,
        ),
    )
    ties = (
        TieGroup(("2.weight", "4.weight"), 64, "same parameter"),
        TieGroup(("2.bias", "4.bias"), 8, "same parameter"),
    )
    checkpoint = CheckpointDiff(
        path="shared.safetensors",
        missing=("6.bias",),
        unexpected=("head.weight",),
        mismatched=(Mismatch("0.weight", (8, 4), (8, 5), "float32", "float32", "shape"),),
        covered_by_tie=(("4.weight", "2.weight"), ("4.bias", "2.bias")),
        loaded=5,
    )
    findings = (
        Finding("warning", "unused-parameter", "requires grad but got no gradient", "6.weight"),
        Finding(
            "info",
            "unregistered-tensor",
            "not saved | not moved",
            "rand_weight",
            "sample_models/handmade.py:14",
        ),
    )
    return Snapshot(
        target="sample_models/handmade.py",
        kind="model",
        model_class="SharedNet",
        device="cpu",
        blocks=with_self_figures(blocks),
        parameters=parameters,
        buffers=buffers,
        ties=ties,
        unregistered=(rand_weight,),
        forward=ForwardInfo(True, "Tensor[2, 4] float32", True, "mean of floating outputs"),
        total_params=129,
        trainable_params=129,
        total_bytes=548,
        checkpoint=checkpoint,
        findings=findings,
        source="sample_models/handmade.py:30",
        devices=("cpu",),
        compute=Compute(
            forward_flops=2_000_640,
            backward_flops=6_001_152,
            attention="mixed",
            uncounted_ops=(UncountedOp("relu", 3), UncountedOp("add", 2)),
        ),
        memory=Memory(
            params_bytes=516,
            grads_bytes=516,
            optimizer_bytes=None,
            activations_bytes=448,
            peak_bytes=2_500,
            peak_at="backward (2)",
            how="measured",
            device="cpu",
            buffers_bytes=32,
        ),
        fit=FitVerdict(
            device="H100",
            capacity_bytes=80 * 2**30 - 2**30,
            needed_bytes=100 * 2**30,
            fits=False,
            margin_bytes=-(21 * 2**30),
            max_batch=None,
            step="inference",
            context_bytes=2**30,
            batch=None,
            note="no tensor argument with a batch dimension: largest batch not available",
        ),
    )


def handmade_profile() -> Profile:
    cpu_runs = (0.212, 0.205, 0.219, 0.208, 0.231, 0.207, 0.21, 0.209, 0.226, 0.204)
    gpu_runs = (0.051, 0.049, 0.05, 0.052, 0.048, 0.05, 0.061, 0.05)
    blocks = []
    for device, scale in (("cpu", 1.0), ("cuda:0", 0.25)):
        for path, inclusive, self_ms, calls in (
            ("", 0.2, 0.02, 1),
            ("0", 0.05, 0.05, 1),
            ("1", 0.03, 0.03, 3),
            ("2", 0.1, 0.1, 2),
            ("lazy", None, None, 0),
        ):
            scaled = (
                None if inclusive is None else inclusive * scale,
                None if self_ms is None else self_ms * scale,
            )
            blocks.append(BlockTiming(path, device, scaled[0], scaled[1], calls))
    return Profile(
        devices=(
            TimingSummary("cpu", 0.2095, 0.2045, 0.2265, 0.204, 0.231, 10, cpu_runs),
            TimingSummary("cuda:0", 0.05, 0.0487, 0.0559, 0.048, 0.061, 8, gpu_runs),
        ),
        blocks=tuple(blocks),
        copies=(
            CopyFinding("H2D", 128, 1, "float32", False, False, "", "sample_models/handmade.py:40"),
            CopyFinding(
                "H2D",
                4,
                32,
                "int64",
                False,
                False,
                "0",
                "sample_models/handmade.py:22",
                many_small=True,
            ),
        ),
        syncs=(
            SyncFinding(
                ".item()",
                "reads a device value into Python",
                1,
                "",
                "sample_models/handmade.py:25",
                0.0123,
                "cuda:0",
            ),
            SyncFinding(
                "bool(tensor)",
                "a Python if on a tensor needs its value",
                4,
                "2",
                "sample_models/handmade.py:27",
                None,
                "cpu",
            ),
        ),
        gil=GilReport(0.05, 0.9, 1.4, 0.02, 412),
        system=SystemSample(1.5, 98.5, 512 * 1024 * 1024, (97.0, 12.5), (GpuSample(0, "H100"),)),
        step="forward (eval, no grad)",
        flops_per_step=2_000_640,
        rates=(
            ComputeRate("cpu", 2_000_640 / 0.2095e-3, None, None),
            ComputeRate(
                "cuda:0",
                2_000_640 / 0.05e-3,
                66.9e12,
                2_000_640 / 0.05e-3 / 66.9e12,
                "H100 float32 dense",
            ),
        ),
    )
