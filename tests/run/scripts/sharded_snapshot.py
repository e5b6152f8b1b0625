"""Each rank snapshots an FSDP2 model and a tensor-parallel model after a real training step
(static: no example input, so no forward of netscope's own), and writes both as JSON reports."""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.build import snapshot_model
from netscope.report.serialize import report_dict

dist.init_process_group("gloo")
rank = dist.get_rank()
out = Path(sys.argv[1])
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(16, 32)
        self.down = nn.Linear(32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


def step(model: nn.Module) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(4, 16)).square().mean().backward()
    optimizer.step()


def snapshot(model: nn.Module, name: str) -> None:
    loaded = LoadedTarget(LoadOptions(target=__file__, device="cpu"), __file__, model)
    report = report_dict(snapshot_model(loaded))
    (out / f"{name}_rank{rank}.json").write_text(json.dumps(report))


fsdp = nn.Sequential(MLP(), MLP(), nn.Linear(16, 4))
for block in fsdp[:2]:
    fully_shard(block)
fully_shard(fsdp)
step(fsdp)
snapshot(fsdp, "fsdp")
mesh = init_device_mesh("cpu", (dist.get_world_size(),), mesh_dim_names=("tp",))
tp = parallelize_module(MLP(), mesh, {"up": ColwiseParallel(), "down": RowwiseParallel()})
step(tp)
snapshot(tp, "tp")
dist.barrier()
dist.destroy_process_group()
print(f"rank {rank} snapshots written")
