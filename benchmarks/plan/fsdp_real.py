"""One real FSDP2 training step per rank (torchrun, gloo, CPU), its peak measured by torch.

Run by benchmarks/bench_plan.py and tests/engine/plan: ``torchrun --nproc-per-node 2
fsdp_real.py MODEL PRECISION CHECKPOINT OUT.json``. Each rank builds MODEL (benchmarks/plan/
models.py), wraps every repeated block and the root with ``fully_shard`` (bf16-mixed:
``MixedPrecisionPolicy(bfloat16, float32)``), checkpoints every unit's block with the
non-reentrant ``checkpoint_wrapper`` when asked, and runs two AdamW steps. The peak is the high
water of torch's ``FSDPMemTracker`` (torch.distributed._tools: a dispatch mode and weak
references, so a buffer gloo's thread frees is seen freed; torch's profiler misses those frees
and reads a peak that grows step after step) over the second and third steps: absolute, the
shards, the optimizer state, the batch and every transient.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    apply_activation_checkpointing,
    checkpoint_wrapper,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS, loss_of, repeated_blocks


def main(name: str, precision: str, checkpoint: str, out: str) -> None:
    from torch.distributed._tools.fsdp2_mem_tracker import FSDPMemTracker

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    torch.manual_seed(0)
    build, batch = MODELS[name]
    model = build()
    model.train()
    blocks = repeated_blocks(model)
    if checkpoint == "all":
        ids = {id(b) for b in blocks}
        apply_activation_checkpointing(
            model, checkpoint_wrapper_fn=checkpoint_wrapper, check_fn=lambda m: id(m) in ids
        )
        blocks = repeated_blocks(model)
    policy = MixedPrecisionPolicy(torch.bfloat16, torch.float32)
    kw = {"mp_policy": policy} if precision == "bf16-mixed" else {}
    for block in blocks:
        fully_shard(block, mesh=mesh, **kw)
    fully_shard(model, mesh=mesh, **kw)
    optimizer = torch.optim.AdamW(model.parameters(), foreach=True)
    inputs = batch()
    tracker = FSDPMemTracker(model, optimizer)
    tracker.track_inputs((inputs,))
    peaks = []
    for _ in range(3):  # the peak resets on entry: the second and third steps are measured
        with tracker:
            one_step(model, optimizer, inputs)
        peaks.append(tracker.get_tracker_snapshot("peak")[torch.device("cpu")]["Total"])
        tracker.reset_mod_stats()
    if rank == 0:
        with open(out, "w") as f:
            snapshot = tracker.get_tracker_snapshot("peak")[torch.device("cpu")]
            parts = {str(k): v for k, v in snapshot.items()}
            json.dump({"peak_bytes": max(peaks[1:]), "steps": peaks, "parts": parts}, f)
    dist.destroy_process_group()


def one_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: object) -> None:
    loss_of(model, inputs).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
