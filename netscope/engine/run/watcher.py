"""The watcher inside the script's process: steps, phases, models, and sampled detection.

Installed before the script runs, with torch's own global hooks only:

- optimizer step pre/post hooks: the step boundary (the first optimizer that steps) and the
  optimizer phase;
- global module forward pre/post hooks: a call with no block on the stack is a *root* call (the
  forward phase); a root with parameters is a model, and the model is the root whose parameters
  the stepping optimizer updates. With no optimizer (an inference loop) a step is one call of the
  main root;
- the DataLoader iterator's ``__next__``: the data phase (the main process's wait on it);
- ``Tensor.backward`` / ``torch.autograd.backward``: the backward phase.

A step's time is from the end of the previous step to its own boundary; ``other`` is what the
four phases leave, each charged to the innermost open phase (``phases``). Detection
(``loop_detect``) records the steps ``sampling`` plans: a burst of early steps, then 1 in N, N
chosen from what a sampled step costs so the loop slows by about ``BUDGET``; slowed steps are left
out of the timing while enough plain steps remain.
Every hook returns at once in a forked process (DataLoader workers are not instrumented), and an
error inside the watcher disables it with a note instead of reaching the script.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import torch
import torch.optim.optimizer as optimizer_hooks

from netscope.engine.compile_facts import DETECTORS_OFF
from netscope.engine.dynamo_frames import never_compiled
from netscope.engine.model import (
    RunModel,
    Snapshot,
)
from netscope.engine.profiler.gil import gil_report
from netscope.engine.run.aside import update_without_syncs, with_detectors
from netscope.engine.run.block_clock import BlockClock, BlockTable
from netscope.engine.run.channel import Sender
from netscope.engine.run.compile_safe import dynamo_compiled_anything
from netscope.engine.run.discover import Owners, model_of_parameters
from netscope.engine.run.dynamo_watch import DynamoWatch
from netscope.engine.run.heartbeat import MIN_BEATS, Heartbeat
from netscope.engine.run.loop_detect import RootTracker, SampledStep, Taint
from netscope.engine.run.loop_table import LoopTable
from netscope.engine.run.memory import StepMemoryReader
from netscope.engine.run.messages import (
    PEAK_TFLOPS_ENV,
    BlockTimes,
    BoundaryChanged,
    CompileSeen,
    DevicePeak,
    GilMeasured,
    LoopFindings,
    ModelsFound,
    RunNote,
    RunSnapshot,
    StepCounted,
    StepRecord,
    Steps,
    StepUsage,
    UsageRecord,
)
from netscope.engine.run.phases import (
    BACKWARD,
    DATA,
    FORWARD,
    OPTIMIZER,
    PHASE_SLOTS,
    PhaseStack,
    StepClock,
)
from netscope.engine.run.quiet import (
    FIND_EVERY,
    LEAN_BELOW_MS,
    PHASED_FIRST,
    QUIET_FROM,
    QuietSteps,
)
from netscope.engine.run.roots import Root, call_kwargs, optimized_ids
from netscope.engine.run.run_snapshot import (
    device_of,
    is_compiled,
    static_snapshot,
    unwrap,
    with_script_state,
    with_watched,
)
from netscope.engine.run.sampling import BUDGET, MIN_EVERY, SamplingPlan
from netscope.engine.run.step_watch import StepWatch, WatchedFigures

__all__ = ["MIN_EVERY", "Watcher"]

# steps are sent in batches at most this often: each batch takes a lean step's boundary the
# long way (at 0.2 s a Lightning loop of 4.5 ms steps ran 0.2 % slower than with none)
FLUSH_S = 0.5
REFERENCE_STEPS = 16  # recent plain steps a sampled step is compared with
GRAD_REFRESH_S = 5.0  # values and gradient statistics read again, at most this often
MAX_WATCH_TRIES = 4  # counted steps that held no training step before giving up
NOT_COUNTED = (
    "FLOPs and memory per step are not counted: no step of the loop called the main model under "
    "grad and then backward() (a backward through torch.autograd.grad is not seen)"
)
GIL_SEND_S = 5.0  # the lateness summary is re-sent at most this often (and at the end)
COMPILE_SEND_S = 1.0  # torch.compile's story so far, sent at most this often (and at the end)


class Watcher:
    """Watches the script's loop from torch's global hooks and streams what it sees."""

    fast_close = True  # a lean step's boundary may take the short path (_lean_stepped)

    def __init__(self, sender: Sender, script: str, every: int | None = None) -> None:
        self.sender = sender
        self.script = script
        self.plan = SamplingPlan(every)
        self.pid = os.getpid()
        self.enabled = True
        self.suspended = False  # the watcher's own work (a snapshot) runs under its own hooks
        self.depth = 0
        self.ignored_root = False
        self.roots: dict[int, Root] = {}
        self.forward_main: int | None = None  # first root with parameters (inference loops)
        self.boundary_opt: Any = None
        self.stepped: list[Any] = []  # optimizers (weak) that have stepped
        self.opt_mark = 0
        self.opt_aside: list[Any] = []  # per open optimizer.step(): the recorded step it set aside
        self.phases = PhaseStack([StepClock("forward"), StepClock("optimizer.step")])
        self.stack = self.phases.stack  # the open phases, innermost last
        # called at every phase of every step: the stack's own methods, no call in between
        self.enter: Callable[[int], None] = self.phases.enter
        self.leave: Callable[[], None] = self.phases.leave
        self.pending: list[StepRecord] = []
        self.last_flush = time.perf_counter()
        self.plain_ms: deque[float] = deque(maxlen=REFERENCE_STEPS)
        self.sampled: SampledStep | None = None
        self.sampled_clock: StepClock | None = None
        self.warming = False
        self.tracker = RootTracker()
        self.taint: Taint | None = None
        self.table = LoopTable()
        self.device = "cpu"
        self.main: int | None = None
        self.snapshot: Snapshot | None = None
        self.snapshot_wanted = False
        self.example_grad = False  # the main model's first call recorded a graph: it trains
        self.example_autocast: str | None = None  # the autocast dtype of that call, if any
        self.called = False  # the main model was called since it was chosen
        self.watch: StepWatch | None = None  # the script's own step, counted (one step)
        self.watch_clock: StepClock | None = None
        self.watch_wanted = True
        self.watched: WatchedFigures | None = None
        self.compiled_noted = False
        self.watch_tries = 0  # counted steps without the loop's kind of step (no backward)
        self.peak_tflops = _peak_tflops_env()
        self.memory: StepMemoryReader | None = None  # created at the first step boundary
        self.usage: list[UsageRecord] = []
        self.calls_mark: tuple[int | None, int] = (None, 0)  # (main model, its calls) at a boundary
        self.last_grads = 0.0
        self.grad_refresh_s = GRAD_REFRESH_S
        self.heartbeat: Heartbeat | None = None
        self.block_clock: BlockClock | None = None  # the main model's blocks, on timed steps
        self.blocks = BlockTable()
        self.sent_gil = 0
        self.last_gil = 0.0
        self.models_sent: tuple[RunModel, ...] = ()
        self.last_compile = 0.0
        self._handles: list[Any] = []
        self._restore: list[Callable[[], None]] = []
        self.dynamo = DynamoWatch(self._pre, self._post)  # the script's own graph breaks...
        self.owners = Owners()  # a submodule called at the top level: its parent's call
        self.quiet: QuietSteps | None = None  # plain steps hooked at their roots only
        # the step in progress is lean (quiet.py): its hooks hand straight on; quiet.lean, kept
        # here as an attribute the patched functions read at every call
        self.lean = False
        self.lean_until = 0  # the first upcoming step at whose boundary something is due
        self.phased_plain = 0  # plain steps whose phases were read
        self.top_level: dict[int, weakref.ref[torch.nn.Module]] = {}  # modules called at depth 0

    # --- installation -----------------------------------------------------------------------

    def install(self) -> None:
        # torch.compile (compile_safe, dynamo_watch): the hooks are nothing inside a traced graph
        self.dynamo.install()
        self._handles = [
            *self.dynamo.hooks.install(),
            optimizer_hooks.register_optimizer_step_pre_hook(self._opt_pre),
            optimizer_hooks.register_optimizer_step_post_hook(self._opt_post),
        ]
        self.quiet = QuietSteps(self.dynamo.hooks, self._pre, self._post)
        self._patch_data()
        self._patch_backward()
        _preload()
        os.register_at_fork(after_in_child=self._forked)
        self.heartbeat = Heartbeat()

    def _patch(self, owner: Any, name: str, phase: int) -> None:
        original = getattr(owner, name)
        agent = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # a lean step's, or the snapshot's own backward: not a phase
            if agent.lean or not agent.enabled or agent.suspended:
                return original(*args, **kwargs)
            watch = agent._phase_begins(phase)
            try:
                return original(*args, **kwargs)
            finally:
                agent._phase_ends(watch)

        # a compiled step's loss.backward() breaks its graph and runs this eagerly: dynamo must
        # not compile it as a frame of its own (nor the watcher's code); torch's backward under
        # it, dynamo treats as without netscope
        never_compiled(wrapper, only_itself=True)
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(original, "__name__", name)
        wrapper.__doc__ = getattr(original, "__doc__", None)
        setattr(owner, name, wrapper)
        self._restore.append(lambda: setattr(owner, name, original))

    def _phase_begins(self, phase: int) -> StepWatch | None:
        self.enter(phase)
        watch = self.watch if phase == BACKWARD else None
        if watch is not None:
            watch.backward_begins()
        return watch

    def _phase_ends(self, watch: StepWatch | None) -> None:
        if watch is not None:
            watch.backward_ends()
        self.leave()

    def _patch_data(self) -> None:
        from torch.utils.data import dataloader

        self._patch(dataloader._BaseDataLoaderIter, "__next__", DATA)

    def _patch_backward(self) -> None:
        self._patch(torch.Tensor, "backward", BACKWARD)
        self._patch(torch.autograd, "backward", BACKWARD)

    def uninstall(self) -> None:
        """Nothing of netscope's runs in the script's steps after this: hooks, patches, modes,
        the heartbeat's beats (an open window would beat every 2 ms for the rest of the run)."""
        self.enabled = False
        self.lean = False
        if self.heartbeat is not None:
            self.heartbeat.close()
        if self.sampled is not None:
            self._stop_sampled(keep=False)
        if self.watch is not None:
            self.watch.close()
            self.watch = None
        if self.quiet is not None:
            self.quiet.stop()
        self.dynamo.uninstall()
        if self.memory is not None:
            self.memory.close()
        if self.block_clock is not None:
            self.block_clock.stop()
            self.block_clock = None
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for restore in reversed(self._restore):
            restore()
        self._restore = []

    def _forked(self) -> None:
        """A forked process (a DataLoader worker): not instrumented, and never talks to netscope."""
        self.enabled = False
        self.lean = False
        sampled, self.sampled = self.sampled, None
        if sampled is not None:  # forked inside a recorded step: its modes are on this stack too
            sampled.stop()
        if self.quiet is not None:
            self.quiet.stop()
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.sender.fd = None  # the parent's pipe stays the parent's; do not close the copy

    # --- phases -----------------------------------------------------------------------------

    @property
    def clocks(self) -> list[StepClock]:
        """The step clocks: one per kind of boundary until the optimizer's is known."""
        return self.phases.clocks

    # --- module hooks -------------------------------------------------------------------------

    def _pre(self, module: torch.nn.Module, args: tuple) -> None:
        if self.depth:
            self.depth += 1
            if self.watch is not None:
                self.watch.block_enters(module)
            return
        self.depth = 1
        if not self.enabled or self.suspended:
            self.ignored_root = True
            return
        if self.stack and self.stack[0] == DATA:  # a transform module inside the data phase
            self.ignored_root = True
            return
        self.ignored_root = False
        known = self.top_level.get(id(module))  # the modules quiet steps hook (the called ones)
        if known is None or known() is not module:
            self.top_level[id(module)] = weakref.ref(module)
        self.enter(FORWARD)
        try:
            self._root_called(module, args)
        except Exception as exc:  # never reach the script
            self._fail(exc)

    def _post(self, module: torch.nn.Module, args: tuple, *rest: Any) -> None:
        depth = self.depth - 1
        self.depth = depth if depth > 0 else 0
        if depth > 0 and self.watch is not None:
            self.watch.block_exits(module, rest[-1] if rest else None)
        if depth > 0 or self.ignored_root:
            if depth <= 0:
                self.ignored_root = False
            return
        self.leave()
        try:
            self._root_returned(
                module, args, rest[0] if len(rest) == 2 else {}, rest[-1] if rest else None
            )
        except Exception as exc:
            self._fail(exc)

    def _root_called(self, called: torch.nn.Module, args: tuple) -> None:
        module = self.owners.owner(called)  # self.encoder(x) in training_step: the model's call
        key = id(module)
        root = self.roots.get(key)
        if root is None or root.ref() is not module:
            root = self.roots[key] = Root(module)
            if root.param_ids:
                self._new_model(key, module, root)
        if self.taint is not None and self.sampled is not None and root.param_ids:
            self.taint.add_nested(args)
            self.taint.add_nested(call_kwargs())  # model(input_ids=..., attention_mask=...)
        if self.watch is not None and key == self.main:
            lead = self.owners.leads(called, module)
            self.watch.forward_begins(args, call_kwargs(), member=not lead)
            if called is not module:
                self.watch.block_enters(called)

    def _new_model(self, key: int, module: torch.nn.Module, root: Root) -> None:
        if self.forward_main is None:
            self.forward_main = key
            self.device = device_of(module)
            if self.memory is None:
                self.memory = StepMemoryReader(self.device)
        self.tracker.add_root(module, "" if key == self.forward_main else root.cls)
        self._choose_main()

    def _root_returned(
        self, called: torch.nn.Module, args: tuple, kwargs: dict, output: Any = None
    ) -> None:
        module = self.owners.known_owner(called)
        key = id(module)
        root = self.roots.get(key)
        if root is None:
            return
        if self.watch is not None and key == self.main:
            self.watch.block_exits(called, output)
            self.watch.forward_ends()
        if not self.owners.leads(called, module):
            return  # the decoder after the encoder: the same call of the model
        root.calls += 1
        if key == self.main and not self.called:
            self.called = True
            self.example_grad = torch.is_grad_enabled() and any(
                p.requires_grad for p in module.parameters()
            )
            from netscope.engine.compute.mfu import autocast_dtype

            self.example_autocast = autocast_dtype(device_of(module))
        if self.snapshot_wanted and self.depth == 0 and not self.stack and self._snapshot_now(root):
            self._take_snapshot()
        if self.boundary_opt is None and key == self.forward_main:
            self._close_step(self.clocks[0])

    # --- optimizer hooks ----------------------------------------------------------------------

    def _opt_pre(self, optimizer: Any, args: Any, kwargs: Any) -> tuple[Any, Any] | None:
        if self.lean or not self.enabled:
            return None
        self.opt_mark = len(self.stack)
        self.enter(OPTIMIZER)
        sampled = self.sampled
        aside = sampled if sampled is not None and update_without_syncs(optimizer) else None
        self.opt_aside.append(aside)
        if aside is not None:  # aside: torch's own update reads nothing back from the device
            aside.step_aside()

        def wrap(closure: Callable[[], Any]) -> Callable[[], Any]:
            timed = self.phases.wrap_closure(closure)
            return timed if aside is None else with_detectors(timed, aside)

        # optimizer.step(closure): the closure runs the loop's own code (Lightning's
        # training_step); it is handed on unchanged, timed as the loop's rather than the update's
        if kwargs.get("closure") is not None and callable(kwargs["closure"]):
            return args, {**kwargs, "closure": wrap(kwargs["closure"])}
        if len(args) > 1 and callable(args[1]):  # args[0] is the optimizer
            return (args[0], wrap(args[1]), *args[2:]), kwargs
        return None

    def _opt_post(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self.opt_aside:
            aside = self.opt_aside.pop()
            if aside is not None:
                aside.step_back()
        if self.lean:
            self._lean_stepped(optimizer)
            return
        if not self.enabled:
            return
        self.phases.unwind(self.opt_mark + 1)  # a phase left open by an error
        self.leave()
        try:
            self._optimizer_stepped(optimizer)
        except Exception as exc:
            self._fail(exc)

    def _lean_stepped(self, optimizer: Any) -> None:
        """A lean step's boundary: its time (and its memory, at the reader's pace) and nothing
        else, unless something is due at the next step (then the whole boundary below)."""
        clock = self.phases.clocks[0]
        now = time.perf_counter()
        boundary = self.boundary_opt
        start = clock.start
        heartbeat = self.heartbeat
        if (
            not self.fast_close
            or start is None
            or clock.index + 2 >= self.lean_until
            or boundary is None
            or boundary() is not optimizer
            or now - self.last_flush >= FLUSH_S
            or (self.snapshot is not None and now - self.last_grads >= self.grad_refresh_s)
            or (heartbeat is not None and heartbeat.running)  # its window counts steps
        ):
            try:
                self._optimizer_stepped(optimizer)
            except Exception as exc:
                self._fail(exc)
            return
        index = clock.index = clock.index + 1
        total = (now - start) * 1000.0
        self.pending.append((index, total, None, None, None, None, False))
        self.plain_ms.append(total)
        reader = self.memory
        read = reader.read() if reader is not None and index % reader.every == 0 else None
        self.usage.append((index, None, *read) if read is not None else (index, None, None, None))
        clock.start = time.perf_counter()

    def _optimizer_stepped(self, optimizer: Any) -> None:
        if not any(ref() is optimizer for ref in self.stepped):
            self.stepped.append(weakref.ref(optimizer))
            self._find_unhooked_model(optimizer)
            self._choose_main()
        if self.boundary_opt is None:
            self.boundary_opt = weakref.ref(optimizer)
            if self.sampled_clock is self.clocks[0]:
                self._stop_sampled(keep=False)
            self._drop_watch()
            self._flush(force=True)
            self.phases.clocks = [self.clocks[1]]
            self.table.fold_into_one_step()  # the calls so far were the first step's
            self.sender.send(BoundaryChanged("optimizer.step"))
            self.plan.restart()
            if self.heartbeat is not None:  # the new boundary's steps are planned from their first
                self.heartbeat.close()
            self._choose_main()
        if self.boundary_opt() is not optimizer:
            return
        if not self.stack:
            now = time.perf_counter()
            if self.snapshot_wanted:
                self._take_snapshot()
            elif self.snapshot is not None and now - self.last_grads >= self.grad_refresh_s:
                self._refresh_state()
        self._close_step(self.clocks[0])

    # --- models -------------------------------------------------------------------------------

    def _find_unhooked_model(self, optimizer: Any) -> None:
        """A ``torch.compile``'d training step calls the model inside dynamo's graph, where no
        hook of netscope's runs: the model is the module in the script's frames that holds the
        parameters this optimizer updates (when no model called so far holds them)."""
        ids = frozenset(id(p) for group in optimizer.param_groups for p in group["params"])
        if any(r.param_ids & ids for r in self.roots.values() if r.ref() is not None):
            return
        module = model_of_parameters(ids)
        if module is None or id(module) in self.roots:
            return
        root = self.roots[id(module)] = Root(module)
        root.hooked = False
        self._new_model(id(module), module, root)

    def _choose_main(self) -> None:
        models = {k: r for k, r in self.roots.items() if r.param_ids and r.ref() is not None}
        if not models:
            return
        main_ids, every = optimized_ids(self.stepped, self.boundary_opt)
        main = self.forward_main
        if main_ids:
            best = max(
                models, key=lambda k: (len(models[k].param_ids & main_ids), models[k].params)
            )
            if models[best].param_ids & main_ids:
                main = best
        rows = []
        for key, root in models.items():
            if key == main:
                role = "main"
            elif root.param_ids & every:
                role = "trained"
            else:
                role = "called"
            rows.append(RunModel(root.cls, root.params, role))  # type: ignore[arg-type]
        if main != self.main:
            self.main = main
            self.snapshot = None
            self.called = False
            self.snapshot_wanted = True
            self._drop_watch()
            module = models[main].ref() if main in models else None
            if module is not None:
                self.tracker.paths.clear()
                self.tracker.add_root(module, "")
                for key, root in models.items():
                    other = root.ref()
                    if key != main and other is not None:
                        self.tracker.add_root(other, root.cls)
        ordered = tuple(sorted(rows, key=lambda r: (r.role != "main", -r.total_params)))
        if ordered != self.models_sent:
            self.models_sent = ordered
            self.sender.send(ModelsFound(ordered))

    def _snapshot_now(self, root: Root) -> bool:
        """A call that recorded a graph is followed by the script's backward: the snapshot (a
        walk that reads the tensors) then waits for the optimizer's step, when every sharded
        parameter is back in its shard and the gradients are final; with no optimizer stepping
        yet (an inference loop with grad on, gradient accumulation) for the next call."""
        if not self.example_grad:
            return True
        return self.boundary_opt is None and root.calls >= 2

    def _take_snapshot(self) -> None:
        self.snapshot_wanted = False
        root = self.roots.get(self.main) if self.main is not None else None
        module = root.ref() if root is not None else None
        if module is None or not (self.called or not root.hooked):  # type: ignore[union-attr]
            self.snapshot_wanted = module is not None  # wait for the model's first call
            return
        began = time.perf_counter()
        if self.memory is not None:
            self.memory.hold_peak()
        try:
            with self._own_work():
                self.snapshot = self._snapshot(module)
                if self.watched is not None:
                    self.snapshot = with_watched(self.snapshot, self.watched)
                grads = self._read_state(module, values=False)  # the walk read the values
            self.last_grads = time.perf_counter() if grads else 0.0
            self.sender.send(RunSnapshot(self.snapshot))
            self.sender.send(self._device_peak(module, self.snapshot))
        except Exception as exc:
            self.sender.send(RunNote(f"the model's snapshot failed: {type(exc).__name__}: {exc}"))
        finally:
            if self.memory is not None:
                self.memory.drop_peak()
            self._pause(time.perf_counter() - began)

    def _device_peak(self, module: torch.nn.Module, snapshot: Snapshot) -> DevicePeak:
        """The main model's device and its dense peak for the dtype its matmuls run in."""
        from netscope.engine.compute.mfu import device_peak

        device = device_of(module)
        return DevicePeak(
            device, *device_peak(device, snapshot, self.peak_tflops, self.example_autocast)
        )

    def _snapshot(self, module: torch.nn.Module) -> Snapshot:
        """The user's module under any wrapper, walked: netscope never calls it (no forward, no
        backward, no collective, nothing the loop relies on changed)."""
        inner, wrappers = unwrap(module)
        self.suspended = True
        try:
            return static_snapshot(self.script, inner, wrappers)
        finally:
            self.suspended = False

    def _refresh_state(self) -> None:
        """The main model's values and gradients read again (every ``grad_refresh_s``, and once
        when the script ends): the tree shows them as the loop leaves them."""
        root = self.roots.get(self.main) if self.main is not None else None
        module = root.ref() if root is not None else None
        if module is None or self.snapshot is None:
            return
        began = time.perf_counter()
        try:
            with self._own_work():
                self._read_state(module)
            self.sender.send(RunSnapshot(self.snapshot))
        finally:
            self.last_grads = time.perf_counter()
            spent = time.perf_counter() - began
            self._pause(spent)
            self.grad_refresh_s = max(GRAD_REFRESH_S, spent / BUDGET)

    def _read_state(self, module: torch.nn.Module, values: bool = True) -> bool:
        """Values, and gradient statistics from the script's own backward; whether it had left
        gradients."""
        if self.snapshot is None:
            return False
        self.snapshot, grads = with_script_state(self.snapshot, module, values)
        return grads

    def _own_work(self) -> contextlib.AbstractContextManager[None]:
        """Around netscope's own tensor work in the script's process: a sampled step's detectors
        do not record it as the loop's."""
        return self.sampled.paused() if self.sampled is not None else contextlib.nullcontext()

    def _pause(self, seconds: float) -> None:
        """The watcher's own work is not the script's: move the clocks past it."""
        self.phases.pause(seconds)

    # --- steps and sampling -------------------------------------------------------------------

    def _close_step(self, clock: StepClock) -> None:
        now = time.perf_counter()
        if clock.start is None:
            clock.start = now
            return
        clock.index += 1
        total = (now - clock.start) * 1000.0
        acc = clock.acc
        lean = self.lean  # the step ran lean: its phases and calls were not read
        sampled = self.sampled is not None and self.sampled_clock is clock
        timed = self.block_clock is not None  # slowed by its hooks: left out of step times
        if timed:
            self._stop_block_clock()
        if self.watch is not None and self.watch_clock is clock:
            timed = True  # slowed by the counting mode: left out of step times too
            self._finish_watch()
        self._record_usage(clock.index, total, seen=not lean)
        data, forward, backward, optimizer = (
            (None, None, None, None) if lean else (ms * 1000.0 for ms in acc[:4])
        )
        self.pending.append(
            (clock.index, total, data, forward, backward, optimizer, sampled or timed)
        )
        clock.acc = [0.0] * PHASE_SLOTS
        if sampled and self.warming:
            # The warm-up step only tainted what the recorded step may read: the loss of
            # this step, logged after optimizer.step(), is read during the next one.
            self.warming = False
            if self.sampled is not None:
                self.sampled.reset()
        elif sampled and self.plan.record_next():
            self._keep_sampled()
        elif sampled:
            self._stop_sampled(keep=True, step_ms=total)
        elif clock.index > 1 and not timed:
            self.plain_ms.append(total)
            if not lean:
                self.phased_plain += 1
        if self.heartbeat is not None:
            self.heartbeat.step_ended()
        self._flush()
        self._send_compile()
        upcoming = clock.index + 1
        if self.gil_step:
            pass  # the heartbeat's window goes on: nothing else slows these steps
        elif self.watch_wanted and self.watch is None and self.sampled is None and upcoming >= 2:
            self._start_watch(clock)
        elif (
            self.sampled is None
            and upcoming + 1 >= self.plan.next_sampled
            and self.main is not None
            and not self.suspended
        ):
            self._start_sampled(clock)
        elif (
            self.sampled is None
            and self.heartbeat is not None
            and self.plan.heartbeat_due(upcoming, len(self.heartbeat.lateness_ms) >= MIN_BEATS)
        ):
            self.heartbeat.open_window()
        elif self.sampled is None and not self.gil_step and self.plan.block_due(upcoming):
            self._start_block_clock()
        if self.quiet is not None:
            self._quiet_next(upcoming)
        clock.start = time.perf_counter()

    def _quiet_next(self, upcoming: int) -> None:
        """The next step hooked at its roots only, when it needs no more (``quiet``), or lean:
        with no module hook at all, when its phases and calls are not read either."""
        quiet_steps = self.quiet
        assert quiet_steps is not None
        quiet = (
            upcoming >= QUIET_FROM
            and upcoming % FIND_EVERY != 0  # a model first called late is found on these
            and self.sampled is None  # the detectors taint the inputs of every root's call
            and self.boundary_opt is not None
            and self.watch is None
            and self.block_clock is None
            and not self.watch_wanted
            and not self.snapshot_wanted
            and self.depth == 0
            and self.enabled
            and not self.suspended
        )
        plain = self.plain_ms
        # lean once the phases' medians have enough steps to stand on (a 40-step run's too), on
        # a loop whose recent plain steps are short: their median (one step slowed by another
        # process on the core does not end the lean steps)
        short = (
            self.phased_plain >= PHASED_FIRST
            and bool(plain)
            and statistics.median_high(plain) < LEAN_BELOW_MS
        )
        lean = quiet and short and not quiet_steps.phased(upcoming)
        modules = (ref() for ref in self.top_level.values()) if quiet else ()
        quiet_steps.want(quiet, (module for module in modules if module is not None), lean)
        self.lean = quiet_steps.lean
        if self.lean:
            find = (upcoming // FIND_EVERY + 1) * FIND_EVERY
            self.lean_until = min(self.plan.first_due(), find, quiet_steps.next_phased)

    @property
    def gil_step(self) -> bool:
        """The heartbeat's window is open: nothing else slows these steps."""
        return self.heartbeat is not None and self.heartbeat.running

    def _record_usage(self, index: int, step_ms: float, seen: bool = True) -> None:
        """The main model's calls in the step just ended (``seen``: its hooks ran), and the
        memory at its boundary."""
        key = self.main
        root = self.roots.get(key) if key is not None else None
        count = root.calls if root is not None else 0
        mark_key, mark = self.calls_mark
        self.calls_mark = (key, count)
        # a model called only inside a compiled step: its calls are not seen (None, not 0)
        calls = None if not seen or (root is not None and not root.hooked) else count
        if calls is not None and mark_key == key:
            calls -= mark
        reader = self.memory
        if reader is None:
            reader = self.memory = StepMemoryReader(self.device)
        now = peak = None
        if reader.available and index % reader.every == 0:
            began = time.perf_counter()
            read = reader.read()
            reader.pace(time.perf_counter() - began, step_ms / 1000.0)
            if read is not None:
                now, peak = read
        self.usage.append((index, calls, now, peak))

    @property
    def every(self) -> int:
        """1 in how many steps the detectors record (on average)."""
        return self.plan.every

    @every.setter
    def every(self, value: int) -> None:
        self.plan.every = value

    def next_interval(self) -> int:
        return self.plan.next_interval()

    def _start_watch(self, clock: StepClock) -> None:
        """Count the next step as the script runs it (its first step warms up)."""
        root = self.roots.get(self.main) if self.main is not None else None
        module = root.ref() if root is not None else None
        if module is None or self.suspended or self.block_clock is not None:
            return
        self.watch_wanted = False
        inner, wrappers = unwrap(module)
        if is_compiled(wrappers) or dynamo_compiled_anything():
            if self.compiled_noted:
                return
            self.compiled_noted = True
            self.sender.send(
                RunNote(
                    "FLOPs and memory per step are not counted: the script runs torch.compile'd "
                    "code and netscope's counting would change what runs"
                )
            )
            return
        training = self.boundary_opt is not None
        self.watch = StepWatch(inner, device_of(module), training=training)
        self.watch_clock = clock

    def _finish_watch(self) -> None:
        watch, self.watch = self.watch, None
        self.watch_clock = None
        if watch is None:
            return
        began = time.perf_counter()
        try:
            optimizers = [ref() for ref in self.stepped]
            figures = watch.figures([opt for opt in optimizers if opt is not None])
            if figures is None or (watch.training and figures.compute.backward_flops is None):
                # no training step counted (an evaluation step): another, a few times at most
                # (a backward by torch.autograd.grad is not seen: never slow every step)
                self.watch_tries += 1
                self.watch_wanted = self.watch_tries < MAX_WATCH_TRIES
                if not self.watch_wanted:
                    self.sender.send(RunNote(NOT_COUNTED))
                return
            self.watched = figures
            boundary = self.clocks[0].boundary
            self.sender.send(StepCounted(boundary, figures.compute, figures.memory, figures.calls))
            if self.snapshot is not None:
                self.snapshot = with_watched(self.snapshot, figures)
                self.sender.send(RunSnapshot(self.snapshot))
        except Exception as exc:  # netscope's own failure: the run goes on, unwatched
            self.sender.send(RunNote(f"the step's count failed: {type(exc).__name__}: {exc}"))
        finally:
            self._pause(time.perf_counter() - began)

    def _drop_watch(self) -> None:
        """The step being counted is not a whole step of the loop's kind: count another."""
        if self.watch is not None:
            self.watch.close()
        self.watch = None
        self.watch_clock = None
        self.watched = None
        self.watch_wanted = True
        self.watch_tries = 0

    def _start_block_clock(self) -> None:
        """Time the main model's blocks over the next step (apart from the detectors' steps)."""
        root = self.roots.get(self.main) if self.main is not None else None
        module = root.ref() if root is not None else None
        if module is not None and not self.suspended:
            # the user's module under DDP / Lightning / accelerate: its blocks by the tree's
            # paths (not "module.0"); a compiled one keeps its wrapper (no hook inside a graph)
            inner, wrappers = unwrap(module)
            self.block_clock = BlockClock(module if is_compiled(wrappers) else inner)
            self.block_clock.start()

    def _stop_block_clock(self) -> None:
        clock, self.block_clock = self.block_clock, None
        if clock is None:
            return
        self.blocks.add_step(clock.stop())
        self.sender.send(BlockTimes(self.blocks.rows(self.device), self.blocks.steps))

    def _start_sampled(self, clock: StepClock) -> None:
        if dynamo_compiled_anything():  # compile_safe: the detectors' modes would recompile it
            self.plan.next_sampled = sys.maxsize
            self.sender.send(RunNote(DETECTORS_OFF))
            return
        taint = None
        if not self.device.startswith("cuda"):
            taint = self.taint = self.taint or Taint()
            for root in self.roots.values():
                module = root.ref()
                if module is None or not root.param_ids:
                    continue
                for tensor in (*module.parameters(), *module.buffers()):
                    taint.add(tensor)
                    if tensor.grad is not None:
                        taint.add(tensor.grad)
        self.sampled = SampledStep(self.tracker, taint)
        self.phases.data_gate = self.sampled  # a CPU run's data phase runs without the modes
        self.sampled_clock = clock
        self.warming = True
        self.sampled.start()

    def _stop_sampled(self, *, keep: bool, step_ms: float = 0.0) -> None:
        sampled, self.sampled = self.sampled, None
        self.opt_aside.clear()  # an optimizer step that raised left its entry
        self.sampled_clock = None
        self.phases.data_gate = None
        if sampled is None:
            return
        sync_events, copy_events = sampled.stop()
        if not keep:
            return
        self.table.add_step(sync_events, copy_events)
        self.plan.sampled(self.clocks[0].index, step_ms, list(self.plain_ms))
        self._send_findings()

    def _keep_sampled(self) -> None:
        """The step just recorded is kept and the detectors stay on for the next one."""
        if self.sampled is None:
            return
        self.table.add_step(*self.sampled.take())
        self._send_findings()

    def _send_findings(self) -> None:
        found_syncs, found_copies = self.table.findings(self.device)
        self.sender.send(LoopFindings(found_syncs, found_copies, self.table.sampled, self.every))

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.pending or (not force and now - self.last_flush < FLUSH_S):
            return
        self.last_flush = now
        batch, self.pending = tuple(self.pending), []
        self.sender.send(Steps(self.clocks[0].boundary, batch))
        if self.usage:
            usage, self.usage = tuple(self.usage), []
            how = self.memory.how if self.memory is not None and self.memory.available else None
            self.sender.send(StepUsage(self.clocks[0].boundary, how, usage))
        self._send_gil()

    def _send_gil(self, force: bool = False) -> None:
        heartbeat = self.heartbeat
        if heartbeat is None or len(heartbeat.lateness_ms) == self.sent_gil:
            return
        now = time.perf_counter()
        if not force and now - self.last_gil < GIL_SEND_S:
            return
        self.last_gil = now
        self.sent_gil = len(heartbeat.lateness_ms)
        self.sender.send(GilMeasured(gil_report(list(heartbeat.lateness_ms))))

    def _send_compile(self) -> None:
        """What torch.compile did so far, when it did something new: at most once a second."""
        now = time.perf_counter()
        if now - self.last_compile < COMPILE_SEND_S:
            return
        self.last_compile = now
        compiled = self.dynamo.report_if_new()
        if compiled is not None:  # read before the next step's clock starts: not its time
            self.sender.send(CompileSeen(compiled))

    # --- end ----------------------------------------------------------------------------------

    def finish(self) -> None:
        """The script ended: close what is open and send what is left."""
        if self.heartbeat is not None:
            self.heartbeat.on.clear()
        if self.sampled is not None:
            self._stop_sampled(keep=False)
        if not self.enabled:
            return
        try:
            if self.watch is not None:
                self._finish_watch()
            if self.snapshot_wanted:
                self._take_snapshot()
            elif self.snapshot is not None and self.last_grads:
                self._refresh_state()  # the values and gradients the run ends with
            self._flush(force=True)
            self._send_gil(force=True)
            compiled = self.dynamo.report()
            if compiled is not None:
                self.sender.send(CompileSeen(compiled))
        finally:
            self.uninstall()

    def _fail(self, exc: BaseException) -> None:
        self.uninstall()  # the recorded step, the counted step and the heartbeat stop with it
        with contextlib.suppress(OSError):
            self.sender.send(
                RunNote(f"netscope stopped watching the loop: {type(exc).__name__}: {exc}")
            )


def _preload() -> None:
    """Import what the snapshot and the peak lookup need before the script starts: a first
    import inside the loop (about 0.1 s) would be the loop's time. The statistics' kernels run
    once on two tiny host tensors too: their first use (a few ms on the host) would otherwise
    fall in the step that takes the snapshot."""
    import netscope.engine.compute.devices
    import netscope.engine.compute.mfu
    import netscope.engine.snapshot.build  # noqa: F401
    from netscope.engine.snapshot.values import tensor_stats

    with torch.no_grad():
        tensor_stats([torch.linspace(-1.0, 1.0, 64).reshape(8, 8), torch.zeros(8)])


def _peak_tflops_env() -> float | None:
    text = os.environ.get(PEAK_TFLOPS_ENV, "")
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value > 0 else None


never_compiled(Watcher._phase_begins, Watcher._phase_ends)
