"""One real tensor-parallel training step per rank (torchrun, gloo, CPU): the bytes its
collectives return, measured on rank 0.

``torchrun --nproc-per-node 2 tp_real.py OUT.json``: each rank builds tp_model.py's model,
applies its ``tp_plan`` with torch's ``parallelize_module`` and runs two AdamW steps. Over the
second, a dispatch mode sees every functional collective (``_c10d_functional``: DTensor's
all-reduce, all-gather, reduce-scatter) and keeps a weak reference to the buffer each returns
(``wait_tensor`` and ``_wrap_tensor_autograd`` hand the same buffer on): rank 0 writes the high
water of those buffers' live bytes and each collective's name and bytes.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import weakref
from fnmatch import fnmatchcase
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    RowwiseParallel,
    parallelize_module,
)
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp_model

STYLES = {"colwise": ColwiseParallel, "rowwise": RowwiseParallel}
PASS_THROUGH = ("wait_tensor", "_wrap_tensor_autograd")  # the collective's buffer, returned


class CollectiveBuffers(TorchDispatchMode):
    """Live bytes of the buffers functional collectives return, and their high water."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.refs: dict[int, Any] = {}
        self.peak = 0
        self.calls: list[tuple[str, int]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        name = func._overloadpacket.__name__
        if func.namespace == "_c10d_functional" and name not in PASS_THROUGH:
            storage = out.untyped_storage()
            key = storage._cdata
            if key not in self.live:
                self.live[key] = storage.nbytes()
                self.refs[key] = weakref.ref(storage, lambda _r, key=key: self.live.pop(key))
                self.calls.append((name, storage.nbytes()))
                self.peak = max(self.peak, sum(self.live.values()))
        return out


def main(out: str) -> None:
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    model = tp_model.build_model()
    plan = {}
    for path, _ in model.named_modules():
        for pattern, style in tp_model.tp_plan(model).items():
            if fnmatchcase(path, pattern):
                plan[path] = STYLES[style]()
    parallelize_module(model, mesh, plan)
    optimizer = torch.optim.AdamW(model.parameters(), foreach=True)
    batch = tp_model.example_input()
    for _ in range(2):
        mode = CollectiveBuffers()
        with mode:
            tp_model.loss(model(batch), batch).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump({"peak_bytes": mode.peak, "collectives": mode.calls}, f)
    # torch 2.13 + gloo: a collective's work still holding tensors at exit can abort the
    # process (tests/run/scripts/tp_train.py): free them while Python is alive
    del model, optimizer, mode
    gc.collect()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
