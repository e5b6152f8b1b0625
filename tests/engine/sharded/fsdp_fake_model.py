"""An FSDP2 model built in a fake four-rank world: what `netscope report` sees of a sharded
model file (no example input: the snapshot is static)."""

import torch.distributed as dist
from torch import nn
from torch.testing._internal.distributed.fake_pg import FakeStore


def build_model():
    from torch.distributed.fsdp import fully_shard

    if not dist.is_initialized():
        dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=4)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64))
    fully_shard(net[0])
    fully_shard(net)
    return net
