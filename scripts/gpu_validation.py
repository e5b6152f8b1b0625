"""Check netscope's CUDA paths on a real GPU in a few minutes; prints a Markdown summary.

Run on a machine with an NVIDIA GPU:  python scripts/gpu_validation.py > gpu-validation-run.md
and copy what it printed into docs/gpu-validation.md. Exits 1 when a check fails, 2 without a GPU.

Checks: step timing vs torch.utils.benchmark.Timer (within 3%) and vs torch.profiler's summed CUDA
kernel time; per-block timing with CUDA events; the bytes and direction of a known H2D and D2H
transfer (pinned and pageable); a known ``.item()`` per step found with its line and a measured
host wait; NVML readings present; and the syncs predicted without a GPU (the stand-in GPU) equal
the syncs found on the real GPU for real transformers models (when transformers is installed);
FLOPs per block equal on cuda, cpu and meta, the measured CUDA peak against the meta estimate,
and MFU against the peak table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn


class Net(nn.Module):
    """A step with one known transfer each way and one known .item()."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(*[nn.Linear(2048, 2048) for _ in range(8)])
        self.host = torch.randn(1024, 1024).pin_memory()  # 4 MiB, pinned

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        extra = self.host.to(x.device, non_blocking=True)  # known H2D: 4 MiB pinned
        y = self.body(x) + extra.sum()
        y.sum().item()  # known sync
        y[:256].cpu()  # known D2H: 256 x 2048 x 4 bytes
        return y


def row(name: str, ok: bool, detail: str) -> tuple[str, bool, str]:
    print(f"| {name} | {'PASS' if ok else 'FAIL'} | {detail} |")
    return name, ok, detail


def end_to_end() -> tuple[str, bool, str]:
    """The worker path the CLI takes: a sample model, --train, on the CPU and the GPU."""
    from netscope.engine.options import LoadOptions, ProfileOptions
    from netscope.engine.worker.session import run_profile

    target = Path(__file__).resolve().parents[1] / "sample_models" / "mlp.py"
    prof = ProfileOptions(devices=("cpu", "cuda:0"), max_seconds=1.0)
    _snapshot, profile = run_profile(LoadOptions(str(target), train=True), prof)
    timed = {t.device: t.median_ms for t in profile.devices}
    roots = {b.device: b.inclusive_ms for b in profile.blocks if b.path == ""}
    return row(
        "worker, --train, cpu + cuda:0",
        set(timed) == {"cpu", "cuda:0"} and all(v is not None for v in roots.values()),
        f"step medians {timed} ms; root block {roots} ms",
    )


def _hf_cases() -> dict[str, tuple[Any, Any, Any]]:
    """Real transformers models (small configs) whose syncs the stand-in GPU predicts."""
    try:
        import transformers as tf
    except ImportError:
        return {}
    ids = torch.randint(0, 100, (2, 8), generator=torch.Generator().manual_seed(0))
    gpt2 = tf.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64)
    mixtral = tf.MixtralConfig(
        num_hidden_layers=2,
        hidden_size=32,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=64,
        num_local_experts=4,
        num_experts_per_tok=2,
        vocab_size=100,
    )
    mixtral._experts_implementation = "eager"

    def adamw_step(model: Any, batch: Any) -> Any:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for _ in range(2):
            model(input_ids=batch, labels=batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

    return {
        "GPT-2 forward": (lambda: tf.GPT2LMHeadModel(gpt2), lambda m, b: m(input_ids=b), ids),
        "GPT-2 with attention mask": (
            lambda: tf.GPT2LMHeadModel(gpt2),
            lambda m, b: m(input_ids=b, attention_mask=torch.ones_like(b)),
            ids,
        ),
        "Mixtral eager routing": (
            lambda: tf.MixtralForCausalLM(mixtral),
            lambda m, b: m(input_ids=b),
            ids,
        ),
        "GPT-2 AdamW steps": (lambda: tf.GPT2LMHeadModel(gpt2).train(), adamw_step, ids),
    }


def activation_stats_on_cuda() -> tuple[str, bool, str]:
    """A large activation's figures on the GPU (var_mean, no float64 copy, no read-back)
    against float64 on the CPU, and the device memory the statistics took beyond the tensor."""
    from netscope.engine.snapshot.values import activation_row, activation_stats

    torch.manual_seed(0)
    host = 1e3 + torch.randn(64, 1024, 256)  # 16.8 M values, the mean far above the spread
    device = host.to("cuda:0")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    (stats,) = activation_stats([activation_row(device)])
    extra = torch.cuda.max_memory_allocated() - before
    wide = host.double()
    mean, std = wide.mean().item(), wide.std().item()
    ok = (
        stats is not None
        and stats.mean is not None
        and stats.std is not None
        and abs(stats.mean - mean) <= 1e-6 * abs(mean)
        and abs(stats.std - std) <= 1e-5 * std
        and extra < host.numel() * host.element_size()  # a float64 copy would be 2 x
    )
    got = "none" if stats is None else f"mean {stats.mean}, std {stats.std}"
    return row(
        "activation statistics on CUDA",
        ok,
        f"{got}; float64 on CPU: mean {mean}, std {std}; extra device memory "
        f"{extra / 2**20:.1f} MiB for a {host.numel() * 4 / 2**20:.0f} MiB float32 activation",
    )


def standin_matches_cuda() -> list[tuple[str, bool, str]]:
    """The CPU-only prediction (stand-in GPU) against the real GPU: the same syncs, same lines."""
    from netscope.engine.profiler.detect import detect_call

    results = []
    for name, (make, call, batch) in _hf_cases().items():
        found = {}
        for device in ("cpu", "cuda:0"):  # "cpu" runs on the stand-in GPU
            torch.manual_seed(0)
            _, syncs = detect_call(make(), call, batch, device)
            found[device] = sorted((s.op, s.location or "", s.count) for s in syncs)
        same = found["cpu"] == found["cuda:0"]
        detail = f"{sum(c for *_, c in found['cuda:0'])} syncs on CUDA"
        if not same:
            detail += f"; predicted {found['cpu']}, real {found['cuda:0']}"
        results.append(row(f"stand-in = CUDA: {name}", same, detail))
    return results


def compute_on_cuda() -> list[tuple[str, bool, str]]:
    """FLOPs the same on cuda, cpu and meta; the measured CUDA peak against the meta estimate;
    MFU against the table's peak (docs/compute.md)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        return [row("compute on cuda", True, "transformers not installed: skipped")]
    from netscope.engine.api import snapshot_loaded
    from netscope.engine.load.loaded import ExampleInput, LoadedTarget
    from netscope.engine.options import LoadOptions

    def gpt2() -> nn.Module:
        torch.manual_seed(0)
        config = transformers.GPT2Config(n_layer=4, n_embd=256, n_head=4, vocab_size=1000)
        return transformers.GPT2LMHeadModel(config)

    def shot(device: str) -> Any:
        ids = torch.randint(0, 1000, (4, 128), generator=torch.Generator().manual_seed(0))
        model = gpt2().to(device)
        loaded = LoadedTarget(
            LoadOptions("gpt2.py", device=device, train=True), "gpt2.py", model,
            example_input=ExampleInput(kwargs={"input_ids": ids.to(device)}),
            loss_fn=lambda out, _batch: out.logits.float().mean(),
        )  # fmt: skip
        return snapshot_loaded(loaded)

    shots = {d: shot(d) for d in ("cuda:0", "cpu", "meta")}
    rows = {d: [(b.path, b.forward_flops, b.backward_flops) for b in s.blocks] for d, s in
            shots.items()}  # fmt: skip
    same = rows["cuda:0"] == rows["cpu"] == rows["meta"]
    compute = shots["cuda:0"].compute
    results = [
        row(
            "FLOPs per block: cuda = cpu = meta (GPT-2, SDPA)",
            same and compute.attention == "causal",
            f"step {compute.step_flops:,} FLOPs, attention {compute.attention}",
        )
    ]
    measured, estimated = shots["cuda:0"].memory, shots["meta"].memory
    error = estimated.peak_bytes / measured.peak_bytes - 1
    results.append(
        row(
            "step peak: meta estimate vs torch.cuda.max_memory_allocated",
            measured.how == "measured" and abs(error) <= 0.10,
            f"measured {measured.peak_bytes:,} B at {measured.peak_at}; estimated "
            f"{estimated.peak_bytes:,} B at {estimated.peak_at} ({error * 100:+.1f} %)",
        )
    )
    from netscope.engine.compute.mfu import with_rates
    from netscope.engine.profiler.timing import time_step

    model = Net().body.to("cuda:0").to(torch.bfloat16)
    x = torch.randn(4096, 2048, device="cuda:0", dtype=torch.bfloat16)
    loaded = LoadedTarget(
        LoadOptions("net.py", device="cuda:0"), "net.py", model,
        example_input=ExampleInput(args=(x,)),
    )  # fmt: skip
    snapshot = snapshot_loaded(loaded)

    def forward() -> Any:
        with torch.no_grad():
            return model(x)

    from netscope.engine.model import Profile

    timing = time_step(forward, "cuda:0", min_runs=30, max_seconds=3.0)
    profile = with_rates(Profile((timing,), (), (), (), None), snapshot, False, None)
    rate = profile.rates[0]
    results.append(
        row(
            "MFU of 8 bf16 Linear(2048) layers against the table's peak",
            rate.mfu is not None and 0 < rate.mfu <= 1,
            f"{profile.flops_per_step:,} FLOPs in {timing.median_ms:.3f} ms: "
            f"{(rate.achieved_flops_per_s or 0) / 1e12:.1f} TFLOP/s, MFU {rate.mfu}, "
            f"peak {rate.peak_source or 'not in the table'}",
        )
    )
    return results


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to validate")
        return 2
    from torch.utils.benchmark import Timer

    from netscope.engine.profiler.block_timing import time_blocks
    from netscope.engine.profiler.detect import detect
    from netscope.engine.profiler.system import SystemSampler
    from netscope.engine.profiler.timing import time_step

    device = "cuda:0"
    model = Net().to(device).eval()
    x = torch.randn(512, 2048, device=device)

    def step() -> torch.Tensor:
        with torch.no_grad():
            return model(x)

    def body_only() -> torch.Tensor:
        with torch.no_grad():
            return model.body(x)

    print("# netscope GPU validation\n")
    name, when = torch.cuda.get_device_name(0), time.strftime("%Y-%m-%d %H:%M")
    print(f"{name}, torch {torch.__version__}, run {when}\n")
    print("| check | result | detail |\n|---|---|---|")
    results = []

    ours = time_step(body_only, device, min_runs=30, max_seconds=3.0)
    timer = Timer("f()", globals={"f": body_only}, num_threads=torch.get_num_threads())
    theirs = timer.blocked_autorange(min_run_time=2.0).median * 1e3
    ratio = ours.median_ms / theirs
    results.append(
        row(
            "median vs benchmark.Timer",
            abs(ratio - 1) <= 0.03,
            f"netscope {ours.median_ms:.3f} ms, Timer {theirs:.3f} ms, ratio {ratio:.3f}",
        )
    )

    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(20):
            body_only()
        torch.cuda.synchronize()
    kernel_ms = sum(e.device_time_total for e in prof.key_averages()) / 1000.0 / 20
    results.append(
        row(
            "median vs torch.profiler CUDA time",
            ours.median_ms >= kernel_ms * 0.97,
            f"kernels {kernel_ms:.3f} ms per step; step {ours.median_ms:.3f} ms "
            f"(launch gaps account for the rest)",
        )
    )

    blocks = {b.path: b for b in time_blocks(model, step, device)}
    body = blocks["body"]
    results.append(
        row(
            "per-block CUDA events",
            body.inclusive_ms is not None and body.inclusive_ms <= ours.median_ms * 1.5,
            f"body inclusive {body.inclusive_ms:.3f} ms, self {body.self_ms:.3f} ms",
        )
    )

    copies, syncs = detect(model, step, device)
    h2d = [c for c in copies if c.direction == "H2D"]
    d2h = [c for c in copies if c.direction == "D2H"]
    results.append(
        row(
            "known H2D transfer",
            any(c.bytes == 1024 * 1024 * 4 and c.pinned and c.non_blocking for c in h2d),
            "; ".join(f"{c.bytes} B pinned={c.pinned} at {c.location}" for c in h2d) or "none",
        )
    )
    results.append(
        row(
            "known D2H transfer",
            any(c.bytes == 256 * 2048 * 4 for c in d2h),
            "; ".join(f"{c.bytes} B at {c.location}" for c in d2h) or "none",
        )
    )
    items = [s for s in syncs if s.op == ".item()"]
    results.append(
        row(
            "known .item() per step",
            len(items) == 1 and items[0].count == 1 and items[0].stall_ms is not None,
            "; ".join(f"{s.op} x{s.count} at {s.location}, wait {s.stall_ms} ms" for s in syncs),
        )
    )

    sampler = SystemSampler()
    sample = sampler.sample()
    sampler.close()
    gpu = sample.gpus[0] if sample.gpus else None
    fields = {} if gpu is None else {k: v for k, v in vars(gpu).items() if k != "index"}
    results.append(
        row(
            "NVML readings",
            gpu is not None and gpu.memory_total_bytes is not None,
            ", ".join(f"{k}={v}" for k, v in fields.items()) or "NVML unavailable",
        )
    )
    results.append(activation_stats_on_cuda())
    results.append(end_to_end())
    results.extend(standin_matches_cuda())
    results.extend(compute_on_cuda())
    failed = [name for name, ok, _ in results if not ok]
    print(f"\n{len(results) - len(failed)}/{len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
