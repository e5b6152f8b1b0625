"""One real FSDP + tensor-parallel (2-D) training step per rank (torchrun, gloo, CPU), its peak
measured by torch's FSDPMemTracker, as benchmarks/plan/fsdp_real.py does for FSDP alone.

``torchrun --nproc-per-node 4 fsdp_tp_real.py OUT.json``: a (dp 2, tp 2) mesh; tp_model.py's
model gets its ``tp_plan`` with ``parallelize_module`` over the tp dimension, then ``fully_shard``
over the dp dimension on each MLP block and the root (torchtitan's order), AdamW, six steps;
rank 0 writes the lowest high water of the five after the first: the step's own. A rank slowed
by other processes completes gloo's asynchronous work late, and the buffers that work holds stay
alive longer (one step read 530,088 B against 464,040 B in a loaded test-suite run; the same
script read 464,040 B on every steady step of four runs on a quiet machine). The median was not
enough: under a full test suite on two cores three of the five steps read 530,088 B.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from fnmatch import fnmatchcase

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    RowwiseParallel,
    parallelize_module,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp_model

STYLES = {"colwise": ColwiseParallel, "rowwise": RowwiseParallel}


def main(out: str) -> None:
    from torch.distributed._tools.fsdp2_mem_tracker import FSDPMemTracker

    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size() // 2, 2), mesh_dim_names=("dp", "tp"))
    model = tp_model.build_model()
    styles = {
        path: STYLES[style]()
        for path, _ in model.named_modules()
        for pattern, style in tp_model.tp_plan(model).items()
        if fnmatchcase(path, pattern)
    }
    parallelize_module(model, mesh["tp"], styles)
    for block in model:
        fully_shard(block, mesh=mesh["dp"])
    fully_shard(model, mesh=mesh["dp"])
    optimizer = torch.optim.AdamW(model.parameters(), foreach=True)
    batch = tp_model.example_input()
    tracker = FSDPMemTracker(model, optimizer)
    tracker.track_inputs((batch,))
    peaks = []
    for _ in range(6):
        with tracker:
            tp_model.loss(model(batch), batch).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        peaks.append(tracker.get_tracker_snapshot("peak")[torch.device("cpu")]["Total"])
        tracker.reset_mod_stats()
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump({"peak_bytes": min(peaks[1:]), "steps": peaks}, f)
    # torch 2.13 + gloo: a collective's work still holding tensors at exit can abort the
    # process (tests/run/scripts/tp_train.py): free them while Python is alive
    del model, optimizer, tracker
    gc.collect()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
