"""Where the CPU step's measured peak exceeds netscope's: per op, the bytes torch's profiler saw
allocated while the op ran against the bytes of the tensors it returned (all that netscope's
tracker, or any op-level replay, can see). What is left is the kernel's own workspace.

Run: python benchmarks/bench_workspaces.py [model ...]  (default: cnn lstm; the models of
tests/engine/compute/compute_models.py, the training step of docs/benchmarks.md's peak table)
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness import markdown_table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "engine" / "compute"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def returned_by_op(name: str) -> Counter[str]:
    """Bytes of the new storages each top-level op returned in netscope's CPU step."""
    from compute_models import MODELS, build, snapshot

    import netscope.engine.compute.allocations as allocations
    import netscope.engine.compute.counter as counter
    import netscope.engine.compute.fast_linear as fast_linear

    returned: Counter[str] = Counter()
    running: list[str] = []
    dispatch = counter.StepCounter.__torch_dispatch__
    created = allocations.AllocationTracker.created

    def named(self: Any, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        running.append(str(func._overloadpacket).removeprefix("aten."))
        try:
            return dispatch(self, func, types, args, kwargs)
        finally:
            running.pop()

    def counted(self: Any, tensor: Any) -> None:
        before = self.current
        created(self, tensor)
        if running and self.current > before:
            returned[running[-1]] += self.current - before  # the op whose output it is

    fast_linear.FAST_LINEAR = False  # every Linear's ops through the mode: named like torch's
    counter.StepCounter.__torch_dispatch__ = named  # type: ignore[method-assign]
    allocations.AllocationTracker.created = counted  # type: ignore[method-assign]
    try:
        snapshot(build(name), MODELS[name][1], train=True)
    finally:
        counter.StepCounter.__torch_dispatch__ = dispatch  # type: ignore[method-assign]
        allocations.AllocationTracker.created = created  # type: ignore[method-assign]
        fast_linear.FAST_LINEAR = True
    return returned


def allocated_in_op(name: str, names: set[str]) -> Counter[str]:
    """Bytes torch's profiler saw allocated while each aten op ran (training step), charged to
    the innermost op running that netscope also dispatched (``names``), else the outermost."""
    import torch
    from compute_models import MODELS, build, logits_loss

    model, kwargs = build(name), MODELS[name][1]
    model.train()
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)
    cpu = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=cpu, profile_memory=True) as prof:
        logits_loss(model(**kwargs)).backward()
        sgd.step()
    events = prof.profiler.kineto_results.events()  # type: ignore[union-attr]
    ops = [e for e in events if e.name().startswith("aten::")]
    allocated: Counter[str] = Counter()
    for event in events:
        if event.name() != "[memory]" or event.nbytes() <= 0:
            continue
        when = event.start_ns()
        around = [op for op in ops if op.start_ns() <= when <= op.end_ns()]
        if around:
            around.sort(key=lambda op: op.start_ns())
            named = [op.name().removeprefix("aten::") for op in around]
            known = [op for op in named if op in names]
            allocated[known[-1] if known else named[0]] += event.nbytes()
    return allocated


def main(names: list[str]) -> None:
    rows = []
    for name in names:
        returned = returned_by_op(name)
        allocated = allocated_in_op(name, set(returned))
        for op, nbytes in allocated.most_common(4):
            seen = returned.get(op, 0)
            rows.append([name, op, f"{nbytes:,}", f"{seen:,}", f"{nbytes - seen:,}"])
    header = ["model", "op", "allocated inside (profiler)", "returned (netscope)", "not returned"]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main(sys.argv[1:] or ["cnn", "lstm"])
