"""A dispatch mode's handler runs as itself once dynamo is loaded (engine/dynamo_frames.py)."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.profiler.standin import skip_dynamo_import


def test_a_modes_handler_skips_dynamos_wrapper_and_is_never_compiled() -> None:
    import torch._dynamo  # as in a script that uses Lightning or the Trainer

    class Counting(TorchDispatchMode):
        ops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Counting.ops += 1
            return func(*args, **(kwargs or {}))

    skip_dynamo_import(Counting)
    files: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            files.add(frame.f_code.co_filename)

    with Counting():
        sys.setprofile(profile)
        try:
            torch.ones(2) + 1
        finally:
            sys.setprofile(None)
    assert Counting.ops == 2
    assert not [f for f in files if "torch/_dynamo" in f]  # no eval-frame switching at each op

    @torch.compile(backend="eager")
    def double(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    with Counting():  # a compiled function under the mode: the handler is not compiled
        assert torch.equal(double(torch.ones(3)), torch.full((3,), 2.0))
