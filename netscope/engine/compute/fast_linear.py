"""Linear blocks counted from their shapes, off the counting mode: a Python dispatch mode costs
~5 us an op, and 20,000 tiny Linear blocks run 10 ops each in forward and backward.

Where a Linear's figures follow from shapes alone (one contiguous plain input of its weight's
dtype, no autocast), its forward runs off torch's dispatch stack (FLOPs ``2 x rows x in x out``,
addmm's formula; its one new storage its output). With a 2-D input its backward is one autograd
node (``AddmmBackward0``, ``MmBackward0`` without a bias) that runs off the stack too, between a
pre-hook and a hook that count what the mode would: one ``mm`` per gradient the node makes, the
bias's ``sum`` listed as uncounted, its gradients tracked as allocations. Equal to the mode's
figures by test (tests/engine/compute/test_compute_fast_linear.py).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any, Protocol, cast

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode


class _Allocations(Protocol):
    def created(self, tensor: torch.Tensor) -> None: ...


class StepCounter(Protocol):
    """What the fast path reads and adds to in compute/counter.py's StepCounter (named here, not
    imported: the counter imports this module)."""

    paused: int
    in_attention: int
    chain: tuple[int, ...]
    uncounted: Counter[str]
    calls_mode: Any  # compute.attention.AttentionCalls (a torch function mode), or None

    @property
    def memory(self) -> _Allocations: ...

    def _add(self, flops: int, chain: tuple[int, ...], phase: str) -> None: ...

    def pack(self, tensor: torch.Tensor) -> torch.Tensor: ...


FAST_LINEAR = True  # False only in tests: every Linear's ops through the mode, to compare
_FAST_NODES = frozenset({"AddmmBackward0", "MmBackward0"})  # a Linear of a 2-D input
_dispatch_depth = torch._C._len_torch_dispatch_stack
_dispatch_mode_at = torch._C._get_dispatch_stack_at
_pop_dispatch_mode = torch._C._pop_torch_dispatch_stack
_push_dispatch_mode = torch._C._push_on_torch_dispatch_stack
_no_torch_function = torch._C.DisableTorchFunction  # netscope's own tensor reads: no mode sees
_function_depth = torch._C._len_torch_function_stack
_function_mode_at = torch._C._get_function_stack_at
_pop_function_mode = torch._C._pop_torch_function_stack
_push_function_mode = torch._C._push_on_torch_function_stack
_top_saved_hooks = torch._C._autograd._top_saved_tensors_default_hooks
_pop_saved_hooks = torch._C._autograd._pop_saved_tensors_default_hooks
_push_saved_hooks = torch._C._autograd._push_saved_tensors_default_hooks


def autocasting(device_type: str) -> bool:
    """Autocast is on for the device (meta has none; an unknown device: assume it may)."""
    if device_type == "meta":
        return False
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:
        return True


class FastLinears:
    """The counter's Linear blocks run off its dispatch mode, forward and backward."""

    def __init__(self, counter: StepCounter) -> None:
        self.counter = counter
        self.leaf: nn.Module | None = None  # a Linear's forward running off the stack
        self.node = False  # a fast Linear's backward node running off it
        self.saved_hooks: tuple[Any, Any] | None = None  # the counter's, off inside the leaf
        self.input: torch.Tensor | None = None  # the leaf's input: what its node saves
        self.calls_aside = False  # the counter's AttentionCalls off its stack inside the leaf

    def _on_top(self) -> bool:
        depth = _dispatch_depth()
        return bool(depth) and _dispatch_mode_at(depth - 1) is self.counter

    def enter(self, module: nn.Module, inputs: Any) -> None:
        """A Linear's forward starts: off the stack where its shapes give its figures."""
        if not FAST_LINEAR or type(module) is not nn.Linear or self.counter.paused:
            return
        if self.leaf is not None:
            return
        with _no_torch_function():  # reading shapes: not the user's torch functions
            self._enter(module, inputs)

    def _enter(self, module: nn.Linear, inputs: Any) -> None:
        counter = self.counter
        x = inputs[0] if len(inputs) == 1 else None
        weight = module.weight
        if type(x) is not torch.Tensor or type(weight) is not nn.Parameter:
            return
        if x.dtype != weight.dtype or x.dim() < 1 or not x.is_contiguous():
            return
        if counter.in_attention or autocasting(x.device.type) or not self._on_top():
            return
        _pop_dispatch_mode(None)
        self.leaf = module
        # F.linear is neither attention nor recurrent: AttentionCalls (on top of torch's
        # function stack once the snapshot's WeightUse stepped aside) need not see it
        depth = _function_depth()
        calls = counter.calls_mode
        if calls is not None and depth and _function_mode_at(depth - 1) is calls:
            _pop_function_mode()
            self.calls_aside = True
        if x.dim() == 2:  # its node is AddmmBackward0 or MmBackward0: what it saves is known
            top = _top_saved_hooks(False)
            if top is not None and top[0] == counter.pack:
                _pop_saved_hooks()
                self.saved_hooks, self.input = top, x
        rows = x.numel() // max(module.in_features, 1)
        counter._add(2 * rows * module.in_features * module.out_features, counter.chain, "forward")

    def exit(self, module: nn.Module, output: Any) -> None:
        if self.leaf is not module:
            return
        self.leaf = None
        self._back_on_stack()
        self._calls_back()
        x, self.input = self.input, None
        if self.saved_hooks is not None:
            _push_saved_hooks(*self.saved_hooks)
            self.saved_hooks = None
        if isinstance(output, torch.Tensor) and isinstance(module, nn.Linear):
            with _no_torch_function():
                self._exit(module, output, x)

    def _exit(self, module: nn.Linear, output: torch.Tensor, x: torch.Tensor | None) -> None:
        """The output's storage, and the leaf's node: its saved tensors (when the counter's
        saved-tensor hooks were off inside the leaf: torch's hook calls, a pack in forward and
        an unpack in backward per tensor, cost more than this) and its backward hooks."""
        counter = self.counter
        counter.memory.created(output)
        node = output.grad_fn
        if x is not None and node is not None:
            # addmm / mm save the input for the weight's gradient and the weight (a view of a
            # parameter: never an activation) for the input's, as the hooks would see them
            if module.weight.requires_grad:
                counter.pack(x)
            if x.requires_grad:
                counter.pack(module.weight)
        if node is not None and type(node).__name__ in _FAST_NODES:
            flops = 2 * output.shape[0] * module.in_features * module.out_features
            node.register_prehook(self._node_enter)
            # the blocks the node belongs to: those running now, as the mode would find them
            # from the node's number (no mark was made inside the leaf)
            node.register_hook(partial(self._node_exit, flops, self.counter.chain))

    def _node_enter(self, _grad_outputs: Any) -> None:
        """The Linear's backward node starts: off the stack (six dispatched ops fewer)."""
        if self.node or not self._on_top():
            return
        _pop_dispatch_mode(None)
        self.node = True

    def _node_exit(
        self, flops: int, chain: tuple[int, ...], grads: tuple[Any, ...], _grad_outputs: Any
    ) -> None:
        """What the mode would have counted: one ``mm`` per gradient the node made (input,
        weight), the bias's ``sum`` (uncounted), the gradients as allocations."""
        if not self.node:
            return
        self.node = False
        counter = self.counter
        self._back_on_stack()
        if not chain:
            return
        *bias, grad_input, grad_weight = grads  # addmm: (bias, input, weight.t()); mm: no bias
        made = (grad_input is not None) + (grad_weight is not None)
        counter._add(flops * made, chain, "backward")
        if bias and bias[0] is not None:
            counter.uncounted["sum"] += 1
        for grad in grads:
            if isinstance(grad, torch.Tensor):
                counter.memory.created(grad)

    def _back_on_stack(self) -> None:
        """The counter (a TorchDispatchMode) back on torch's dispatch stack."""
        _push_dispatch_mode(cast(TorchDispatchMode, self.counter))

    def _calls_back(self) -> None:
        """The counter's AttentionCalls back on torch's function stack, if the leaf took it off."""
        if self.calls_aside:
            self.calls_aside = False
            _push_function_mode(self.counter.calls_mode)

    def restore_saved(self) -> None:
        """A step that raised inside a leaf: the counter's saved-tensor hooks back on their stack
        (called inside ``StepCounter.saving``, which then pops them)."""
        if self.saved_hooks is not None:
            _push_saved_hooks(*self.saved_hooks)
            self.saved_hooks, self.input = None, None

    def restore(self) -> None:
        """A step that raised off the stack: the counter put back on it."""
        if self.leaf is not None or self.node:
            self.leaf, self.node = None, False
            self._back_on_stack()
        self._calls_back()
