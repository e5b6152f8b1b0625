"""``StepCounter``: FLOPs per block, saved activations per block and the step's allocations, from
one dispatch mode under the snapshot's own forward and backward.

Forward ops belong to every block whose forward is running (the snapshot's hooks keep that
stack and call ``mark`` on each block's entry and exit). Backward ops belong to the blocks that
were running when the autograd node executing them was created in the forward: nodes are
numbered in creation order (``_get_sequence_nr``), so each mark remembers the number reached and
the backward looks up the blocks of a node's number. Ops netscope's own statistics run are not
counted (``paused``). A block called several times adds up all its calls.
"""

from __future__ import annotations

import bisect
import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.compute.allocations import (
    StepAllocations,
    allocates,
    local_tensor,
    output_tensors,
    storage_key,
    storage_of,
)
from netscope.engine.compute.fast_linear import FastLinears
from netscope.engine.compute.formulas import DATA_OPS, registry
from netscope.engine.torch_internals import current_autograd_node as _current_node
from netscope.engine.torch_internals import next_node_number as _next_node_number

_PRIM_DEVICE = torch.ops.prim.device.default
_METADATA = frozenset({
    torch.ops.aten.is_contiguous.default, torch.ops.aten.is_contiguous.memory_format,
    torch.ops.aten.size.default, torch.ops.aten.sym_size.default, torch.ops.aten.stride.default,
    torch.ops.aten.sym_stride.default, torch.ops.aten.storage_offset.default,
    torch.ops.aten.numel.default, torch.ops.aten.sym_numel.default, torch.ops.aten.dim.default,
    torch.ops.prim.layout.default, torch.ops.aten.is_strides_like_format.default,
    torch.ops.aten.is_non_overlapping_and_dense.default,
})  # fmt: skip
_has_kernel = torch._C._dispatch_has_kernel_for_dispatch_key
_dispatch_depth = torch._C._len_torch_dispatch_stack
_dispatch_mode_at = torch._C._get_dispatch_stack_at
_pop_dispatch_mode = torch._C._pop_torch_dispatch_stack
_push_dispatch_mode = torch._C._push_on_torch_dispatch_stack
_BACKEND_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta"}
MARKERS = frozenset({"profiler"})  # record_function's enter/exit ops: no compute
Chain = tuple[int, ...]  # id() of each block running, outermost first


def _shape(value: Any) -> Any:
    """What torch's ``shape_wrapper`` hands a formula: tensors as their shapes (a DTensor's local
    shard's: a rank executes the math of its own shards)."""
    if isinstance(value, torch.Tensor):
        return local_tensor(value).shape
    if isinstance(value, (list, tuple)):
        return type(value)(_shape(v) for v in value)
    return value


class OpKind:
    """What an op is, looked up once per op: composite, counted, listed, allocating."""

    __slots__ = (
        "allocates", "backends", "call", "composite", "formula", "func", "metadata", "name",
        "passive", "qualified", "raw", "uncounted",
    )  # fmt: skip

    def __init__(self, func: Any, formulas: dict[Any, Any]) -> None:
        packet = func._overloadpacket
        self.name = str(packet).removeprefix("aten.")
        self.formula = formulas.get(packet)
        # torch's formulas are wrapped to turn tensors into shapes with a pytree walk; the
        # wrapped function with shapes made here gives the same figure, several times faster
        self.raw = getattr(self.formula, "__wrapped__", None)  # set by shape_wrapper's wraps
        implicit = torch._C.DispatchKey.CompositeImplicitAutograd
        self.composite = func is not _PRIM_DEVICE and (
            implicit in func.py_kernels
            or torch._C._dispatch_has_kernel_for_dispatch_key(func.name(), implicit)
        )
        self.uncounted = (
            packet.__name__ not in DATA_OPS and not func.is_view and func.namespace not in MARKERS
        )
        self.allocates = allocates(func)
        self.func = func  # kept alive: kinds are looked up by id(func)
        # a plain OpOverload's __call__ only calls its ``_op`` (a Python frame per op, 60,000
        # ops on 20,000 tiny blocks); a subclass (TorchBind) keeps its own __call__
        self.call = func._op if type(func) is torch._ops.OpOverload else func
        self.metadata = func in _METADATA  # shapes and strides only: passed straight through
        # nothing to count, list or track (views, detach): returned as soon as it has run
        self.passive = self.formula is None and not self.uncounted and not self.allocates
        self.qualified = func.name()
        self.backends: dict[str | None, bool] = {}  # device type -> decomposed there

    def decomposes(self, args: Any) -> bool:
        """A composite op is run as its parts (counted by them, as FlopCounterMode does) unless
        the device has a kernel of its own for it: ``silu_backward`` runs the CPU's kernel, its
        Python decomposition would allocate six temporaries the real step never holds."""
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), None)
        found = self.backends.get(device)
        if found is None:
            key = _BACKEND_KEYS.get(device)  # type: ignore[arg-type]
            own = key is not None and _has_kernel(self.qualified, key)
            found = self.backends[device] = not own
        return found

    def flops(self, args: Any, kwargs: Any, out: Any) -> int:
        if self.raw is not None:
            shaped = {k: _shape(v) for k, v in kwargs.items()}
            return int(self.raw(*_shape(args), out_shape=_shape(out), **shaped))
        local = torch.utils._pytree.tree_map_only(torch.Tensor, local_tensor, (args, kwargs, out))
        return int(self.formula(*local[0], **local[1], out_val=local[2]))  # type: ignore[misc]


class StepCounter(TorchDispatchMode):
    """Counts while entered; ``phase`` says which part of the step is running."""

    def __init__(self, paths: dict[int, str]) -> None:
        super().__init__()
        self.paths = paths  # id(module) -> path
        self.formulas = registry()
        self.chain: Chain = ()  # blocks running now (forward)
        self.phase = "forward"
        self.paused = 0  # > 0: netscope's own ops (statistics): neither counted nor tracked
        self.forward_flops: Counter[int] = Counter()
        self.backward_flops: Counter[int] = Counter()
        self.uncounted: Counter[str] = Counter()
        self.saved: Counter[int] = Counter()
        self.saved_storages: set[int] = set()
        self.excluded: set[int] = set()  # storages of parameters: never "saved activations"
        self.mark_numbers: list[int] = [0]
        self.mark_chains: list[Chain] = [()]
        self.attention_starts: list[int] = []
        self.attention_calls: list[tuple[int, int, int]] = []  # (start, end, backward FLOPs)
        self.attention_done: set[int] = set()
        self.attention_kinds: set[str] = set()
        self.memory = StepAllocations(self._place, self._describe)
        self.kinds: dict[int, OpKind] = {}  # id(func) -> its kind
        self.in_attention = 0  # > 0: inside a counted SDPA call (its parts are not counted again)
        self.fast = FastLinears(self)  # Linear blocks counted from shapes, off the mode
        self.calls_mode: Any = None  # the AttentionCalls counting with this counter, if any
        self._paused = Paused(self)

    # --- the block stack -----------------------------------------------------------------------
    def mark(self, active: list[Any]) -> None:
        """The snapshot's hooks: a block's forward starts or ends (``active`` is its stack)."""
        self.chain = tuple(map(id, active))
        self.mark_numbers.append(_next_node_number())
        self.mark_chains.append(self.chain)

    def leaf_enter(self, module: nn.Module, inputs: Any) -> None:
        """A quiet leaf's forward starts (the snapshot's hooks): a Linear may run off the mode."""
        self.fast.enter(module, inputs)

    def leaf_exit(self, module: nn.Module, output: Any) -> None:
        self.fast.exit(module, output)

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        """A step that raised inside a fast Linear (or its backward node) left this mode off the
        stack: put it back so that leaving pops this mode and nothing else."""
        self.fast.restore()
        super().__exit__(exc_type, exc_val, exc_tb)

    def _chain_of_node(self, number: int) -> Chain:
        return self.mark_chains[bisect.bisect_right(self.mark_numbers, number) - 1]

    def _place(self) -> tuple[str, Chain]:
        """Where the step is now (the tracker names it only if it stays the peak)."""
        phase = self.phase
        return phase, self.chain if phase == "forward" else self._backward_chain()

    def _describe(self, place: tuple[str, Chain]) -> str:
        phase, chain = place
        block = self.paths.get(chain[-1]) if chain else None
        if block is None:
            return phase
        return f"{phase} ({block or 'root'})"

    def _backward_chain(self) -> Chain:
        node = _current_node()
        return self._chain_of_node(node._sequence_nr()) if node is not None else ()

    def pause(self) -> Paused:
        """netscope's own ops: off torch's dispatch stack when this mode is on top (an op then
        costs nothing here: the statistics run 3 ops per block), else passed through."""
        return self._paused

    # --- attention (called by AttentionCalls) -------------------------------------------------
    def attention(
        self, forward: int, backward: int, causal: bool | None, start: int, end: int
    ) -> None:
        """A call counted whole (SDPA: ``causal`` True or False; a recurrent layer: None)."""
        if causal is not None:
            self.attention_kinds.add("causal" if causal else "full")
        self._add(forward, self.chain, "forward")
        if end > start:
            self.attention_starts.append(start)
            self.attention_calls.append((start, end, backward))

    def _attention_backward(self, number: int, chain: Chain) -> bool:
        """True when the node belongs to a counted attention call (its FLOPs counted once)."""
        i = bisect.bisect_right(self.attention_starts, number) - 1
        if i < 0:
            return False
        start, end, flops = self.attention_calls[i]
        if not start <= number < end:
            return False
        if i not in self.attention_done:
            self.attention_done.add(i)
            self._add(flops, chain, "backward")
        return True

    # --- counting ------------------------------------------------------------------------------
    def _add(self, flops: int, chain: Chain, phase: str) -> None:
        if not flops:
            return
        table = self.forward_flops if phase == "forward" else self.backward_flops
        for key in set(chain) if len(chain) > 1 else chain:
            table[key] += flops

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No dynamo wrapper around ``__torch_dispatch__`` (0.7 s on 340,000 ops): the
        snapshot's forward runs eagerly (``load.compiled.eager``), nothing here compiles."""
        return False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        """Per op, one lookup by ``id(func)`` (an OpOverload's own hash is Python code, two of
        them per op were 0.4 s of 200,000 backward ops)."""
        if kwargs is None:
            kwargs = {}
        kind = self.kinds.get(id(func))
        if kind is None:
            kind = self.kinds[id(func)] = OpKind(func, self.formulas)
        if self.paused or kind.metadata:
            return kind.call(*args, **kwargs)
        if kind.composite and kind.decomposes(args):
            with self:  # as FlopCounterMode: a composite op is counted by its parts
                result = func.decompose(*args, **kwargs)
            if result is not NotImplemented:
                return result
        out = kind.call(*args, **kwargs)
        if kind.passive:
            return out
        if not self.in_attention:
            self._count(kind, out, args, kwargs)
        if kind.allocates:
            for tensor in output_tensors(out):
                self.memory.created(tensor)
        return out

    def _count(self, kind: OpKind, out: Any, args: Any, kwargs: Any) -> None:
        if kind.formula is None and not kind.uncounted:
            return  # views, copies, creation: nothing to count (attention's backward has ops
            # of both other kinds, so it is still seen)
        if self.phase == "backward":
            node = _current_node()
            if node is None:
                return
            number = node._sequence_nr()
            chain = self._chain_of_node(number)
            if self.attention_calls and self._attention_backward(number, chain):
                return
        else:
            chain = self.chain
            if not chain:
                return
        if kind.formula is not None:
            self._add(kind.flops(args, kwargs, out), chain, self.phase)
        elif chain and kind.uncounted:
            self.uncounted[kind.name] += 1

    # --- saved activations ------------------------------------------------------------------
    def exclude(self, tensors: list[torch.Tensor]) -> None:
        """Parameters (and their views, which share their storage) are not activations."""
        for tensor in tensors:
            key = storage_key(tensor)
            if key is not None:
                self.excluded.add(key[0])

    def forget_saved(self) -> None:
        """Start the saved activations' count afresh (the next micro-batch's forward)."""
        self.saved.clear()
        self.saved_storages.clear()

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        """saved_tensors_hooks' pack: the tensor itself, its storage counted once per step.

        A plain tensor (the usual case) skips the DTensor lookup and Parameter's Python-level
        ``isinstance`` (20,000 Linear blocks: ~5 us a pack, half of it those two)."""
        storage = storage_of(tensor)
        if storage is None:  # sparse, nested, quantized or lazy (uninitialized) tensors
            return tensor
        key = storage._cdata
        if key in self.excluded or key in self.saved_storages:
            return tensor
        base = tensor._base
        if (type(tensor) is not torch.Tensor and isinstance(tensor, nn.Parameter)) or (
            base is not None and isinstance(base, nn.Parameter)
        ):
            self.excluded.add(key)  # a lazy parameter the forward just made, or its view
            return tensor
        self.saved_storages.add(key)
        nbytes = storage.nbytes()
        chain = self.chain
        for block in set(chain) if len(chain) > 1 else chain:
            self.saved[block] += nbytes
        if chain:
            self.saved[-1] += nbytes  # the model's total under key -1
        return tensor

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        with torch.autograd.graph.saved_tensors_hooks(self.pack, _unpack):
            try:
                yield
            finally:  # a step that raised inside a fast Linear left them off their stack
                self.fast.restore_saved()


class Paused:
    """``StepCounter.pause()``'s context, one object reused (a generator-based context manager
    cost ~1 us more per block, 20,000 times): nests, each level remembering whether it took the
    counter off the stack."""

    def __init__(self, counter: StepCounter) -> None:
        self.counter = counter
        self.aside: list[bool] = []

    def __enter__(self) -> None:
        counter = self.counter
        counter.paused += 1
        depth = _dispatch_depth()
        aside = bool(depth) and _dispatch_mode_at(depth - 1) is counter
        if aside:
            _pop_dispatch_mode(None)
        self.aside.append(aside)

    def __exit__(self, *_exc: object) -> None:
        if self.aside.pop():
            _push_dispatch_mode(self.counter)
        self.counter.paused -= 1


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor
