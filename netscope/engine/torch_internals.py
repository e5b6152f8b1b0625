"""Every private torch name netscope relies on, in one place, with who uses it and why.

torch makes no promise about these; a torch upgrade checks this list first, and
tests/engine/test_torch_internals.py fails by name when one is gone (``missing()``). The two the
FLOP attribution cannot do without are exported from here; the others are used where they are
listed. (Textual's private names live in app/textual_internals.py.)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch

#: dotted name -> where netscope uses it and what for
MODULE_NAMES: dict[str, str] = {
    "torch._C._autograd._get_sequence_nr": (
        "compute/counter.py, compute/attention.py: the number the next autograd node gets, "
        "so backward ops are charged to the blocks that created their nodes"
    ),
    "torch._C._current_autograd_node": (
        "compute/counter.py: the autograd node running a backward op (its _sequence_nr)"
    ),
    "torch._C._autograd._top_saved_tensors_default_hooks": (
        "compute/fast_linear.py: the counter's saved-tensor hooks off inside a Linear of a 2-D "
        "input (what its node saves is known)"
    ),
    "torch._C._autograd._pop_saved_tensors_default_hooks": "compute/fast_linear.py: as above",
    "torch._C._autograd._push_saved_tensors_default_hooks": "compute/fast_linear.py: as above",
    "torch._C._dispatch_has_kernel_for_dispatch_key": (
        "compute/counter.py: composite ops decompose, so their parts are counted, not the op"
    ),
    "torch._C.DispatchKey.CompositeImplicitAutograd": "compute/counter.py: as above",
    "torch.utils._python_dispatch.TorchDispatchMode": (
        "compute/counter.py, compute/allocations.py, snapshot/meta_cache.py, profiler/detect.py, "
        "profiler/standin.py, run/loop_detect.py: watching every aten op (FLOPs, memory, syncs)"
    ),
    "torch.utils._python_dispatch.return_and_correct_aliasing": (
        "profiler/standin.py: the stand-in device tensor's view ops"
    ),
    "torch.utils._pytree.tree_flatten_with_path": "nested.py: tensors nested in inputs/outputs",
    "torch.utils._pytree.tree_map_only": "nested.py: moving or resizing nested tensors",
    "torch.utils._pytree.tree_flatten": "profiler/standin.py: the stand-in's op arguments",
    "torch._C._VariableFunctions": (
        "compute/recurrent.py: torch._VF.lstm/gru/rnn_*: a recurrent layer counted once, at its "
        "call, as the matrix products it stands for (equal on cpu, cuda and meta)"
    ),
    "torch._C._len_torch_dispatch_stack": (
        "compute/counter.py: netscope's own statistics step off the dispatch stack (not counted); "
        "compute/fast_linear.py: Linear blocks and their backward nodes counted from shapes, off it"
    ),
    "torch._C._get_dispatch_stack_at": "compute/counter.py: as above",
    "torch._C._pop_torch_dispatch_stack": "compute/counter.py: as above",
    "torch._C._push_on_torch_dispatch_stack": "compute/counter.py: as above",
    "torch._C._push_on_torch_function_stack": (
        "snapshot/forward.py: the weights-used mode steps off torch's mode stack inside leaves"
    ),
    "torch._C._pop_torch_function_stack": "snapshot/forward.py: as above",
    "torch._C._len_torch_function_stack": "snapshot/forward.py: as above",
    "torch._C._get_function_stack_at": "snapshot/forward.py: as above",
    "torch._C.DisableTorchFunction": "snapshot/forward.py: netscope's own tensor reads",
    "torch._C._disabled_torch_function_impl": "profiler/standin.py: the stand-in tensor",
    "torch._C._nn.flatten_dense_tensors": (
        "snapshot/values.py: many small tensors' statistics in one pass"
    ),
    "torch._C._acc.PrivateUse1Hooks": "profiler/standin.py: the stand-in GPU's availability",
    "torch._C._get_privateuse1_backend_name": "profiler/standin.py: registering the stand-in",
    "torch._check_with": "snapshot/lightmeta.py: a fast path for meta forwards",
    "torch.ops.aten._grouped_mm": (
        "compute/formulas.py: MoE experts' FLOPs; meta_kernels.py: its float32 meta "
        "kernel (torch's meta function takes bfloat16 only)"
    ),
    "torch._subclasses.fake_tensor.FakeTensor": (
        "meta_kernels.py: a fake tensor (the plan's replay) holds no data, as a meta one"
    ),
    "torch._dynamo.eval_frame.OptimizedModule": (
        "load/compiled.py, run/compile_safe.py: torch.compile's module wrapper (``_orig_mod``)"
    ),
    "torch._dynamo.utils.counters": (
        "run/compile_safe.py, run/dynamo_watch.py: frames compiled, graph breaks (run.compile)"
    ),
    "torch._dynamo.utils.get_compilation_metrics": (
        "run/dynamo_watch.py: recompile reasons and compile times of the script's compiles"
    ),
    "torch._dynamo.utils.DEFAULT_COMPILATION_METRICS_LIMIT": (
        "run/dynamo_watch.py: how many compiles torch keeps records of"
    ),
    "torch._dynamo.symbolic_convert.graph_break_log": (
        "run/dynamo_watch.py: the graph_breaks log artifact (each break's file:line and reason), "
        "read by a handler on its logger name"
    ),
    "torch._dynamo.convert_frame.log": (
        "run/dynamo_watch.py: its recompile-limit warning names the function that runs eagerly"
    ),
    "torch.nn.modules.module._global_forward_pre_hooks": (
        "run/compile_safe.py: netscope's global hooks step out of torch's hook dicts (through "
        "their RemovableHandle's hooks_dict_ref / extra_dict_ref) while a compiled module runs"
    ),
    "torch.nn.modules.module._global_forward_hooks": "run/compile_safe.py: as above",
    "torch._C._dynamo.eval_frame.set_code_exec_strategy": (
        "dynamo_frames.py: netscope's hook functions and dispatch handlers are never compiled as "
        "frames (SKIP); its backward and DataLoader wrappers only themselves (SKIP, then DEFAULT "
        "for torch's)"
    ),
    "torch._C._dynamo.eval_frame._FrameExecStrategy": "dynamo_frames.py: as above",
    "torch._C._dynamo.eval_frame._FrameAction": "dynamo_frames.py: as above",
    "torch._compile._disable_dynamo": (
        "snapshot/lightmeta.py: meta decompositions without importing dynamo (seconds)"
    ),
    "torch.testing._internal.distributed.fake_pg.FakeStore": (
        "plan/fake_world.py: the fake process group a planned step runs in"
    ),
    "torch.distributed.device_mesh.DeviceMesh._concatenate": (
        "plan/fake_world.py: FSDP over tensor parallelism joins the meshes (run outside the fake "
        "mode)"
    ),
    "torch._subclasses.fake_tensor.unset_fake_temporarily": "plan/fake_world.py: as above",
    "torch.distributed.fsdp._fully_shard._fsdp_param.alloc_storage": (
        "plan/tracking.py: FSDP2's gathered parameters resized in place, tracked"
    ),
    "torch.distributed.fsdp._fully_shard._fsdp_param.free_storage": "plan/tracking.py: as above",
    "torch.distributed.fsdp._fully_shard._fsdp_param_group.foreach_all_gather": (
        "plan/tracking.py: what FSDP2's collectives allocate is a communication buffer"
    ),
    "torch.distributed.fsdp._fully_shard._fsdp_param_group.foreach_reduce": (
        "plan/tracking.py: as above"
    ),
    "torch.ops._c10d_functional.wait_tensor": (
        "plan/tracking.py: DTensor's collectives; wait_tensor hands its input's buffer on"
    ),
}


def _op_packet() -> Any:
    return torch.ops.aten.mm.default._overloadpacket


def _op_returns() -> Any:
    return torch.ops.aten.mm.default._schema.returns[0].alias_info


def _node_number() -> Any:
    leaf = torch.ones(1, requires_grad=True)
    node = (leaf * 2).grad_fn
    assert node is not None
    return node._sequence_nr()


def _handle_dicts() -> Any:
    from torch.nn.modules import module

    handle = module.register_module_forward_hook(lambda *a: None, always_call=True)
    try:
        return handle.hooks_dict_ref(), [ref() for ref in handle.extra_dict_ref]
    finally:
        handle.remove()


#: private attributes of torch's objects, read through a probe on a real op or autograd node
ATTRIBUTE_PROBES: dict[str, tuple[Callable[[], Any], str]] = {
    "OpOverload._overloadpacket": (_op_packet, "compute/counter.py: the formula of an op"),
    "OpOverload._schema.returns[].alias_info": (
        _op_returns,
        "compute/counter.py, compute/allocations.py, snapshot/meta_cache.py: views and in-place "
        "results allocate no storage",
    ),
    "Node._sequence_nr()": (_node_number, "compute/counter.py: a backward op's creating block"),
    "RemovableHandle.hooks_dict_ref / extra_dict_ref": (
        _handle_dicts,
        "run/compile_safe.py: the dicts a global hook's entries are in (stepped aside)",
    ),
}


def resolve(dotted: str) -> Any:
    """The object at ``dotted`` (a module path, then attributes); AttributeError/ImportError
    when this torch does not have it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            value = getattr(value, name)
        return value
    raise ImportError(dotted)


def missing() -> list[str]:
    """The private names this torch lacks (empty when every one is there)."""
    gone = []
    for dotted in MODULE_NAMES:
        try:
            resolve(dotted)
        except (AttributeError, ImportError):
            gone.append(dotted)
    for name, (probe, _) in ATTRIBUTE_PROBES.items():
        try:
            probe()
        except (AttributeError, IndexError, TypeError):
            gone.append(name)
    return gone


next_node_number: Callable[[], int] = torch._C._autograd._get_sequence_nr
current_autograd_node: Callable[[], Any] = torch._C._current_autograd_node
