"""netscope's global hooks around a real torch.compile'd module (aot_eager, in process): they
see the compiled module once per call, step out of torch's hook dicts while it runs (dynamo then
traces the module as without netscope) and leave nothing behind when closed."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.modules import module as torch_hooks

from netscope.engine.run.compile_safe import GlobalHooks, clock_paths, original_path


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


@pytest.mark.filterwarnings("ignore:Using `torch.compile\\(module\\)`")
def test_hooks_see_a_compiled_module_whole_and_leave_no_trace():
    seen: list[tuple[str, str, int]] = []
    inside: list[int] = []

    def pre(module: nn.Module, args: tuple) -> None:
        seen.append(("pre", type(module).__name__, len(torch_hooks._global_forward_hooks)))

    def post(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        seen.append(("post", type(module).__name__, len(torch_hooks._global_forward_hooks)))

    compiled = torch.compile(_net(), backend="aot_eager")
    plain = _net()
    before = (dict(torch_hooks._global_forward_hooks), dict(torch_hooks._global_forward_pre_hooks))
    hooks = GlobalHooks(pre, post)
    handles = hooks.install()
    try:
        compiled.register_forward_pre_hook(
            lambda m, a: inside.append(len(torch_hooks._global_forward_pre_hooks))
        )
        for _ in range(3):
            expected = plain(torch.ones(2, 4))
            assert torch.equal(compiled(torch.ones(2, 4)), expected)  # same weights, same math
        calls = [s for s in seen if s[1] == "OptimizedModule"]
        assert [s[0] for s in calls] == ["pre", "post"] * 3  # once per call, not per layer
        assert not any(s[1] in ("Linear", "ReLU") and s[2] == 0 for s in seen)
        assert inside == [len(before[1])] * 3  # while it ran: the script's own hooks only
        assert len(torch_hooks._global_forward_hooks) == len(before[0]) + 1  # back after it
        eager_layers = [s for s in seen if s[1] == "Linear"]
        assert len(eager_layers) == 2 * 2 * 3  # the plain model's layers, seen as ever
    finally:
        for handle in handles:
            handle.remove()
        hooks.close()
    assert dict(torch_hooks._global_forward_hooks) == before[0]
    assert dict(torch_hooks._global_forward_pre_hooks) == before[1]
    assert len(compiled._forward_hooks) == 0  # the restoring hook is gone with close()


def test_a_compiled_model_is_timed_whole_under_its_original_path():
    inner = _net()
    inner[2] = torch.compile(inner[2], backend="aot_eager")  # a compiled block
    assert set(clock_paths(inner).values()) == {"2"}
    assert set(clock_paths(torch.compile(_net(), backend="aot_eager")).values()) == {""}
    assert original_path("_orig_mod.encoder._orig_mod.layer") == "encoder.layer"
