"""A rank's collectives (``wait_ms`` and ``collectives`` of ``netscope run``), by kind and block.

Measured inside the rank's process, by wrapping the Python entry points every caller goes
through (looked up at call time, so the wrappers see them), never issuing a collective:

- ``torch.distributed``'s collectives: ``all_reduce``, ``broadcast``, ``barrier``, ``all_gather``,
  and the single-tensor ones FSDP2 calls from ``_fsdp_collectives.py`` (``all_gather_single`` /
  ``all_gather_into_tensor``, ``reduce_scatter_single`` / ``reduce_scatter_tensor``) and
  ``all_to_all_single``. A synchronous call is timed around the call (all of it exposed: the
  rank was blocked); one with ``async_op=True`` from its launch to the completion of its work (a
  callback on ``work.get_future()``), its exposed part being the time spent in ``Work.wait()``;
- the functional collectives DTensor's redistribute calls (tensor parallel):
  ``_functional_collectives.all_reduce / all_gather_single / reduce_scatter_single`` are timed
  from their launch to the return of the ``wait_tensor`` that waits for them; the time inside
  that wait is exposed. A result waited from C++ only counts its launch;
- DistributedDataParallel's gradient all-reduce: at a DDP module's first forward, when the script
  registered no communication hook of its own, netscope registers one that does what DDP's
  default does (average by all-reduce) and times each bucket from its launch to its completion
  (exposed: not told, DDP waits in C++).

Each call is tallied under (kind, via, block): kind ``all_gather``, ``reduce_scatter``,
``all_reduce``...; via ``fsdp`` (FSDP2's parameter groups), ``dtensor`` (functional collectives),
``ddp`` or ``script``; block the FSDP unit (its parameter group's module path) or the innermost
module running when the call was made (a tensor-parallel layer), found by walking the caller's
frames. Bytes are the full tensor the collective makes or consumes: an all-gather's output, a
reduce-scatter's input, an all-reduce's tensor.

``clock`` counts the time during which at least one collective is outstanding (overlapping ones
once): ``wait_ms``. With an overlapped all-reduce that is an upper bound of the time the step is
held up; a rank that reaches a collective late waits little, the ranks that reach it early wait
for it: the straggler is the rank that waits least.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from netscope.engine.run.collective_sites import (
    C10D_KINDS,
    FUNCTIONAL_KINDS,
    Site,
    issuer_of,
    tensor_bytes,
)

# (kind, via, block) -> [calls, ms, exposed ms (None: not told), bytes]
Key = tuple[str, str, str | None]
Tally = list[Any]


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


class _Pending:
    """An asynchronous collective between its launch and its completion or wait."""

    __slots__ = ("key", "launched", "open")

    def __init__(self, key: Key, launched: float) -> None:
        self.key, self.launched, self.open = key, launched, True


class Collectives:
    """Installs the wrappers and the DDP hook; ``clock`` holds the wait so far, ``take()`` the
    tallies since its last call."""

    def __init__(self) -> None:
        self.clock = WaitClock()
        self.enabled = True
        self.ddp_hooked = 0  # DDP modules whose gradient all-reduce netscope times
        self.ddp_skipped = 0  # DDP modules with the script's own hook (not timed by netscope)
        self.path_of: Callable[[Any], str | None] = lambda module: None  # the main model's paths
        self._restore: list[Callable[[], None]] = []
        self._all_reduce: Any = None
        self._lock = threading.Lock()
        self._tallies: dict[Key, Tally] = {}
        self._works: dict[int, _Pending] = {}  # id(Work) -> pending, until waited or done
        # a functional collective's output storage -> (take() generation, pending): DTensor may
        # wait on a view of the output (a re-wrapped AsyncCollectiveTensor), never on a copy
        self._tensors: dict[int, tuple[int, _Pending]] = {}
        self._generation = 0
        self._inside = threading.local()  # a wrapped call in progress on this thread

    def install(self) -> bool:
        """False when torch.distributed is not available in this build."""
        import torch.distributed as dist

        if not dist.is_available():
            return False
        from torch.distributed import distributed_c10d as c10d

        for name, site in C10D_KINDS.items():
            original = getattr(c10d, name, None)
            if original is None:
                continue
            wrapper = self._wrap_c10d(original, site)
            for owner in (c10d, dist):
                if getattr(owner, name, None) is original:
                    self._set(owner, name, wrapper, original)
        work = c10d.Work
        self._set(work, "wait", self._wrap_wait(work.wait), work.wait)
        self._all_reduce = getattr(c10d.all_reduce, "__wrapped__", c10d.all_reduce)
        self._patch_functional()
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

    def take(self) -> dict[Key, tuple[int, float, float | None, int]]:
        """Tallies since the last call, (calls, ms, exposed ms or None, bytes) per key."""
        with self._lock:
            tallies, self._tallies = self._tallies, {}
            stale = [k for k, p in self._works.items() if not p.open]
            for k in stale:  # completed, never waited from Python
                del self._works[k]
            self._generation += 1
            old = [k for k, (born, _) in self._tensors.items() if born < self._generation - 2]
            for k in old:  # waited from C++ only
                del self._tensors[k]
        return {k: (t[0], t[1], t[2], t[3]) for k, t in tallies.items()}

    def _add(
        self, key: Key, calls: int = 0, ms: float = 0.0, exposed: float | None = 0.0, size: int = 0
    ) -> None:
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = [0, 0.0, 0.0, 0]
            tally[0] += calls
            tally[1] += ms
            tally[2] = None if exposed is None or tally[2] is None else tally[2] + exposed
            tally[3] += size

    def _depth(self) -> int:
        return getattr(self._inside, "depth", 0)

    def _key(self, kind: str, via: str | None = None) -> Key:
        found_via, block = issuer_of(sys._getframe(2), self.path_of)
        return kind, via or found_via, block

    def _wrap_c10d(self, original: Any, site: Site) -> Any:
        collectives = self
        clock = self.clock

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not collectives.enabled or collectives._depth():
                return original(*args, **kwargs)  # inside another wrapped call: counted there
            key = collectives._key(site.kind)
            size = tensor_bytes(site, args, kwargs)
            clock.begin()
            began = time.perf_counter()
            collectives._inside.depth = 1
            try:
                work = original(*args, **kwargs)
            except BaseException:
                clock.end()
                raise
            finally:
                collectives._inside.depth = 0
            ended = time.perf_counter()
            if work is None or not kwargs.get("async_op", False):
                clock.end()
                spent = (ended - began) * 1000.0
                collectives._add(key, 1, spent, spent, size)
                return work
            collectives._add(key, 1, 0.0, 0.0, size)
            collectives._track_work(work, key, began)
            return work

        return _named(wrapper, original)

    def _track_work(self, work: Any, key: Key, began: float) -> None:
        pending = _Pending(key, began)
        with self._lock:
            self._works[id(work)] = pending

        def done(_future: Any) -> None:
            self.clock.end()
            with self._lock:
                pending.open = False
            self._add(key, ms=(time.perf_counter() - began) * 1000.0)

        try:
            work.get_future().then(done)
        except Exception:  # a backend without futures: the launch is all that is timed
            self.clock.end()
            with self._lock:
                self._works.pop(id(work), None)

    def _wrap_wait(self, original: Any) -> Any:
        collectives = self

        def wait(work: Any, *args: Any, **kwargs: Any) -> Any:
            if not collectives.enabled or collectives._depth():
                return original(work, *args, **kwargs)
            with collectives._lock:
                pending = collectives._works.pop(id(work), None)
            if pending is None:
                return original(work, *args, **kwargs)
            began = time.perf_counter()
            try:
                return original(work, *args, **kwargs)
            finally:
                collectives._add(pending.key, exposed=(time.perf_counter() - began) * 1000.0)

        return _named(wait, original)

    def _patch_functional(self) -> None:
        """DTensor's functional collectives, and the ``wait_tensor`` that waits for them."""
        try:
            from torch.distributed import _functional_collectives as funcol
        except ImportError:
            return
        for name, site in FUNCTIONAL_KINDS.items():
            original = getattr(funcol, name, None)
            if original is not None:
                self._set(funcol, name, self._wrap_functional(original, site), original)
        wait = funcol.wait_tensor
        self._set(funcol, "wait_tensor", self._wrap_wait_tensor(wait), wait)

    def _wrap_functional(self, original: Any, site: Site) -> Any:
        collectives = self
        clock = self.clock

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not collectives.enabled or collectives._depth():
                return original(*args, **kwargs)
            key = collectives._key(site.kind, "dtensor")
            clock.begin()
            began = time.perf_counter()
            collectives._inside.depth = 1
            try:
                result = original(*args, **kwargs)
            except BaseException:
                clock.end()
                raise
            finally:
                collectives._inside.depth = 0
            size = tensor_bytes(site, args, kwargs, result)
            inner = getattr(result, "elem", None)  # an AsyncCollectiveTensor: not waited yet
            if inner is None or getattr(result, "completed", True):
                clock.end()
                spent = (time.perf_counter() - began) * 1000.0
                collectives._add(key, 1, spent, spent, size)
                return result
            collectives._add(key, 1, 0.0, 0.0, size)
            with collectives._lock:
                entry = (collectives._generation, _Pending(key, began))
                collectives._tensors[_storage_of(inner)] = entry
            return result

        return _named(wrapper, original)

    def _wrap_wait_tensor(self, original: Any) -> Any:
        collectives = self

        def wait_tensor(tensor: Any) -> Any:
            if not collectives.enabled or collectives._depth():
                return original(tensor)
            with collectives._lock:
                entry = collectives._tensors.pop(_storage_of(getattr(tensor, "elem", tensor)), None)
            if entry is None:
                return original(tensor)
            pending = entry[1]
            began = time.perf_counter()
            try:
                return original(tensor)
            finally:
                ended = time.perf_counter()
                collectives.clock.end()
                collectives._add(
                    pending.key, ms=(ended - pending.launched) * 1000.0,
                    exposed=(ended - began) * 1000.0,
                )  # fmt: skip

        return _named(wait_tensor, original)

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

        collectives, clock, all_reduce = self, self.clock, self._all_reduce
        key: Key = ("all_reduce", "ddp", None)

        def netscope_timed_allreduce(state, bucket):  # type: ignore[no-untyped-def]
            group = state if state is not None else dist.group.WORLD
            tensor = bucket.buffer()
            tensor.div_(group.size())
            clock.begin()
            began = time.perf_counter()
            try:
                future = all_reduce(tensor, group=group, async_op=True).get_future()
            except BaseException:
                clock.end()
                raise
            collectives._add(key, 1, 0.0, None, tensor.numel() * tensor.element_size())

            def done(fut):  # type: ignore[no-untyped-def]
                clock.end()
                collectives._add(key, ms=(time.perf_counter() - began) * 1000.0, exposed=None)
                return fut.value()[0]

            return future.then(done)

        return netscope_timed_allreduce


def _storage_of(tensor: Any) -> int:
    try:
        return int(tensor.untyped_storage().data_ptr())
    except (AttributeError, RuntimeError, NotImplementedError):
        return id(tensor)


def _named(wrapper: Any, original: Any) -> Any:
    wrapper.__wrapped__ = original
    wrapper.__name__ = getattr(original, "__name__", "collective")
    wrapper.__doc__ = getattr(original, "__doc__", None)
    return wrapper
