"""A rank's time spent waiting for the others in collectives (``wait_ms`` of ``netscope run``).

Measured inside the rank's process:

- ``torch.distributed.all_reduce / barrier / broadcast / all_gather`` called from Python are
  wrapped: a synchronous call is timed around the call; with ``async_op=True`` from the launch to
  the completion of its work (a callback on ``work.get_future()``);
- DistributedDataParallel's gradient all-reduce: at a DDP module's first forward, when the script
  registered no communication hook of its own, netscope registers one that does what DDP's
  default does (average by all-reduce) and times each bucket from its launch to its completion.

The clock counts the time during which at least one collective is outstanding (overlapping
buckets are counted once). With gloo or NCCL overlapping the all-reduce with backward, that is
an upper bound of the time the step is held up; a rank that reaches a collective late waits
little, the ranks that reach it early wait for it: the straggler is the rank that waits least.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

WRAPPED = ("all_reduce", "barrier", "broadcast", "all_gather")


class WaitClock:
    """Seconds with at least one collective outstanding (thread-safe: futures end elsewhere)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._since = 0.0
        self._total = 0.0

    def begin(self) -> None:
        with self._lock:
            if self._open == 0:
                self._since = time.perf_counter()
            self._open += 1

    def end(self) -> None:
        with self._lock:
            if self._open <= 0:
                return
            self._open -= 1
            if self._open == 0:
                self._total += time.perf_counter() - self._since

    def read(self) -> float:
        with self._lock:
            extra = time.perf_counter() - self._since if self._open else 0.0
            return self._total + extra


class Collectives:
    """Installs the wrappers and the DDP hook; ``clock`` holds the wait so far."""

    def __init__(self) -> None:
        self.clock = WaitClock()
        self.enabled = True
        self.ddp_hooked = 0  # DDP modules whose gradient all-reduce netscope times
        self.ddp_skipped = 0  # DDP modules with the script's own hook (not timed by netscope)
        self._restore: list[Callable[[], None]] = []
        self._all_reduce: Any = None

    def install(self) -> bool:
        """False when torch.distributed is not available in this build."""
        import torch.distributed as dist

        if not dist.is_available():
            return False
        from torch.distributed import distributed_c10d as c10d

        for name in WRAPPED:
            original = getattr(c10d, name)
            wrapper = self._wrap(original)
            for owner in (c10d, dist):
                if getattr(owner, name, None) is original:
                    self._set(owner, name, wrapper, original)
        self._all_reduce = getattr(c10d.all_reduce, "__wrapped__", c10d.all_reduce)
        self._patch_ddp()
        return True

    def _set(self, owner: Any, name: str, value: Any, original: Any) -> None:
        setattr(owner, name, value)
        self._restore.append(lambda: setattr(owner, name, original))

    def uninstall(self) -> None:
        self.enabled = False
        for restore in reversed(self._restore):
            restore()
        self._restore = []

    def _wrap(self, original: Any) -> Any:
        collectives = self
        clock = self.clock

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not collectives.enabled:
                return original(*args, **kwargs)
            clock.begin()
            try:
                work = original(*args, **kwargs)
            except BaseException:
                clock.end()
                raise
            if work is None or not kwargs.get("async_op", False):
                clock.end()
                return work
            try:
                work.get_future().then(lambda fut: clock.end())
            except Exception:  # a backend without futures: the launch is all that is timed
                clock.end()
            return work

        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(original, "__name__", "collective")
        wrapper.__doc__ = getattr(original, "__doc__", None)
        return wrapper

    def _patch_ddp(self) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        original = DDP.forward
        collectives = self

        def forward(module: Any, *args: Any, **kwargs: Any) -> Any:
            if collectives.enabled and not getattr(module, "_netscope_seen", False):
                module._netscope_seen = True
                collectives._hook_ddp(module)
            return original(module, *args, **kwargs)

        forward.__wrapped__ = original  # type: ignore[attr-defined]
        self._set(DDP, "forward", forward, original)

    def _hook_ddp(self, module: Any) -> None:
        if getattr(module, "_comm_hooks", None):
            self.ddp_skipped += 1
            return
        try:
            module.register_comm_hook(module.process_group, self._bucket_hook())
            self.ddp_hooked += 1
        except Exception:  # a built-in hook (or a backend without hooks): keep DDP's own
            self.ddp_skipped += 1

    def _bucket_hook(self) -> Callable[..., Any]:
        """DDP's default (average each bucket by all-reduce), timed from launch to completion.

        No annotations: DDP compares them with its own types, and they are strings here.
        """
        import torch.distributed as dist

        clock, all_reduce = self.clock, self._all_reduce

        def netscope_timed_allreduce(state, bucket):  # type: ignore[no-untyped-def]
            group = state if state is not None else dist.group.WORLD
            tensor = bucket.buffer()
            tensor.div_(group.size())
            clock.begin()
            try:
                future = all_reduce(tensor, group=group, async_op=True).get_future()
            except BaseException:
                clock.end()
                raise

            def done(fut):  # type: ignore[no-untyped-def]
                clock.end()
                return fut.value()[0]

            return future.then(done)

        return netscope_timed_allreduce
