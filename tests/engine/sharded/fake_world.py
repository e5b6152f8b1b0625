"""A two-rank world in this process (torch's fake process group): DTensors and FSDP2 units
are built as under torchrun, every collective is a no-op, so a snapshot test needs no ranks."""

from __future__ import annotations

import torch.distributed as dist
from torch.testing._internal.distributed.fake_pg import FakeStore


def fake_world(world_size: int = 2) -> None:
    """Rank 0 of ``world_size``; once per process (the group is then reused)."""
    if not dist.is_initialized():
        dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=world_size)
