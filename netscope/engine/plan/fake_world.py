"""The fake process group a planned step runs in: N ranks in one process (collectives return
tensors of the right shapes and do nothing), its device meshes made before the fake tensor mode,
and what a 2-D (FSDP over tensor parallelism) layout needs of torch outside that mode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch.distributed as dist

from netscope.engine.errors import NetscopeError


@contextlib.contextmanager
def fake_world(dp: int, tp: int) -> Iterator[tuple[Any, Any]]:
    """A fake process group of ``dp x tp`` ranks (this is rank 0) and its (dp, tp) CPU meshes."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.testing._internal.distributed.fake_pg import FakeStore

    if dist.is_initialized():
        raise NetscopeError(
            "--fit: a process group is already initialized in this process",
            hint="plan the run from a process that is not part of a distributed job",
        )
    dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=dp * tp)
    try:
        mesh = init_device_mesh("cpu", (dp, tp), mesh_dim_names=("dp", "tp"))
        yield mesh["dp"], mesh["tp"]
    finally:
        dist.destroy_process_group()


@contextlib.contextmanager
def meshes_joined_outside_fake() -> Iterator[None]:
    """FSDP over a tensor-parallel model joins the dp and tp meshes (``DeviceMesh._concatenate``),
    which indexes the mesh's real rank tensor: that runs outside the fake mode (restored on
    exit)."""
    from torch._subclasses.fake_tensor import unset_fake_temporarily
    from torch.distributed.device_mesh import DeviceMesh

    original = DeviceMesh.__dict__["_concatenate"]

    def joined(meshes: list[Any]) -> Any:
        with unset_fake_temporarily():
            return original.__func__(meshes)

    setattr(DeviceMesh, "_concatenate", staticmethod(joined))  # noqa: B010
    try:
        yield
    finally:
        setattr(DeviceMesh, "_concatenate", original)  # noqa: B010
