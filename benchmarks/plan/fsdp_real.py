"""One real FSDP2 training step per rank (torchrun, gloo, CPU), its peak measured by torch.

Run by benchmarks/bench_plan.py and tests/engine/plan: ``torchrun --nproc-per-node 2
fsdp_real.py MODEL PRECISION CHECKPOINT OUT.json``. Each rank builds MODEL (benchmarks/plan/
models.py), wraps every repeated block and the root with ``fully_shard`` (bf16-mixed:
``MixedPrecisionPolicy(bfloat16, float32)``), checkpoints every unit's block with the
non-reentrant ``checkpoint_wrapper`` when asked, and runs two AdamW steps. The peak is the high
water of torch's profiler memory events over the second step, counted from before the model was
built (so it is absolute: shards, optimizer state, the batch and every transient).
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
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    torch.manual_seed(0)
    activity = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activity, profile_memory=True) as prof:
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
        marks = []
        for _ in range(2):
            marks.append(torch.profiler.record_function("netscope.step"))
            marks[-1].__enter__()
            loss_of(model, inputs).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            marks[-1].__exit__(None, None, None)
    events = prof.profiler.kineto_results.events()  # type: ignore[union-attr]
    steps = sorted((e.start_ns(), e.end_ns()) for e in events if e.name() == "netscope.step")
    start, end = steps[-1]
    live = peak = 0
    for at, change in sorted((e.start_ns(), e.nbytes()) for e in events if e.name() == "[memory]"):
        live += change
        if start <= at <= end:
            peak = max(peak, live)
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"peak_bytes": peak}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:5])
