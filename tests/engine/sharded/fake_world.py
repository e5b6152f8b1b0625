"""A two-rank world in this process (torch's fake process group): DTensors and FSDP2 units
are built as under torchrun, every collective is a no-op, so a snapshot test needs no ranks."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.testing._internal.distributed.fake_pg import FakeStore

from netscope.engine.load.loaded import LoadedTarget
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions
from netscope.engine.snapshot.build import snapshot_model


def fake_world(world_size: int = 2) -> None:
    """Rank 0 of ``world_size``; once per process (the group is then reused)."""
    if not dist.is_initialized():
        dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=world_size)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(16, 32)
        self.down = nn.Linear(32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


def snapshot_of(model: nn.Module) -> Snapshot:
    loaded = LoadedTarget(LoadOptions(target="train.py", device="cpu"), "train.py", model)
    return snapshot_model(loaded)


def fsdp_model(bf16: bool = True) -> nn.Sequential:
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    fake_world()
    torch.manual_seed(0)
    model = nn.Sequential(MLP(), MLP(), nn.Linear(16, 4))
    policy = MixedPrecisionPolicy(
        param_dtype=torch.bfloat16 if bf16 else None, reduce_dtype=torch.float32
    )
    fully_shard(model[0], mp_policy=policy)
    fully_shard(model[1], reshard_after_forward=False)
    fully_shard(model)
    return model


def tp_model() -> MLP:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        RowwiseParallel,
        parallelize_module,
    )

    fake_world()
    mesh = init_device_mesh("cpu", (2,), mesh_dim_names=("tp",))
    return parallelize_module(MLP(), mesh, {"up": ColwiseParallel(), "down": RowwiseParallel()})
