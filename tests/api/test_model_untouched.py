"""``netscope.inspect`` leaves the caller's model exactly as it found it: values (BatchNorm's
running statistics in train mode included), each module's mode, requires_grad, the .grad
tensors themselves, hooks, device, dtype, and lazy layers still lazy."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import netscope
from netscope.engine.errors import NetscopeError
from tests.api.helpers import assert_same_state, imported, state_of


def _used_cnn() -> tuple[nn.Module, torch.Tensor]:
    """A CNN mid-training: train mode but one block in eval, a frozen layer, gradients from a
    real backward, a user's forward hook and a tensor hook."""
    module = imported("cnn")
    model, x = module.build_model(), module.example_input()
    model.train()
    model.features[1].eval()
    model.features[0].bias.requires_grad_(False)
    model(x).sum().backward()
    model.head.register_forward_hook(lambda *_: None)
    model.head.weight.register_hook(lambda grad: grad)
    return model, x


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"train": True, "optimizer": "adamw", "fit": "H100"},
        {"train": True, "optimizer": "sgd-momentum", "precision": "bf16-mixed"},
        {"precision": "bf16"},  # a pure cast: done on a copy
        {"device": "meta", "train": True},  # placed on meta: a copy
    ],
    ids=["plain", "train-adamw-fit", "mixed", "bf16", "meta"],
)
def test_the_model_is_left_exactly_as_found(options: dict[str, object]) -> None:
    model, x = _used_cnn()
    before = state_of(model)
    report = netscope.inspect(model, x, **options)
    assert_same_state(before, state_of(model))
    assert report.compute is not None and report.compute.forward_flops > 0
    dtypes = {p.dtype for p in report.parameters}
    assert dtypes == ({"bfloat16"} if options.get("precision") == "bf16" else {"float32"})
    assert report.snapshot.devices == (str(options.get("device", "cpu")),)


def test_a_torch_optimizer_is_used_by_kind_never_stepped() -> None:
    model, x = _used_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.123)
    before = state_of(model)
    report = netscope.inspect(model, x, train=True, optimizer=optimizer)
    assert_same_state(before, state_of(model))
    assert optimizer.state == {}  # never stepped
    assert report.memory is not None and report.memory.optimizer == "Adam"


def test_the_gpt2_model_and_its_tie_are_untouched() -> None:
    module = imported("gpt2_tiny")
    model = module.build_model()
    before = state_of(model)
    netscope.inspect(model, **module.example_input(), train=True)
    assert_same_state(before, state_of(model))
    assert model.lm_head.weight is model.transformer.wte.weight


def test_lazy_layers_stay_lazy_in_the_callers_model() -> None:
    module = imported("lazy_mlp")
    model = module.build_model()
    before = state_of(model)
    report = netscope.inspect(model, module.example_input())
    assert_same_state(before, state_of(model))
    assert model[0].has_uninitialized_params()
    assert report.tensor("0.weight").initialized and report.tensor("0.weight").was_lazy


def test_an_error_in_the_forward_leaves_the_model_as_found() -> None:
    model, _ = _used_cnn()
    before = state_of(model)
    with pytest.raises(NetscopeError):
        netscope.inspect(model, torch.randn(2, 5))  # the wrong input: conv2d raises
    assert_same_state(before, state_of(model))


def test_unknown_options_are_clear_errors() -> None:
    model, x = _used_cnn()
    with pytest.raises(NetscopeError, match="unknown optimizer 'adamx'"):
        netscope.inspect(model, x, train=True, optimizer="adamx")
    with pytest.raises(NetscopeError, match="unknown precision"):
        netscope.inspect(model, x, precision="bf17")
    with pytest.raises(NetscopeError, match="not both"):
        netscope.inspect(model, x, input_size=(1, 3, 8, 8))
    with pytest.raises(NetscopeError, match=r"nn\.Module"):
        netscope.inspect(lambda y: y, x)  # type: ignore[arg-type]


def test_a_model_on_meta_takes_a_host_batch_as_the_cli_does() -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
    x = torch.randn(4, 20)
    before = state_of(model)
    report = netscope.inspect(model, x, train=True, optimizer="adam")
    assert_same_state(before, state_of(model))
    assert x.device.type == "cpu" and report.snapshot.device == "meta"
    assert report.compute is not None and report.compute.forward_flops == 2 * 4 * (
        20 * 64 + 64 * 10
    )
    assert report.memory is not None and report.memory.how == "estimated"


@pytest.mark.parametrize(
    "options", [{"device": "meta"}, {"precision": "bf16"}], ids=["meta", "bf16"]
)
def test_lazy_layers_on_a_copy_placed_and_cast(options: dict[str, object]) -> None:
    """The copy's lazy parameters are made where the step runs, in its dtype, as the CLI's
    model built on meta (or cast) makes them at the first forward."""
    module = imported("lazy_mlp")
    model = module.build_model()
    before = state_of(model)
    report = netscope.inspect(model, module.example_input(), **options)
    assert_same_state(before, state_of(model))
    assert report.forward.ran and report.compute is not None
    assert report.compute.forward_flops == 2 * 3 * (7 * 16 + 16 * 4)
    weight = report.tensor("0.weight")
    assert weight.was_lazy and weight.shape == (16, 7)
    assert weight.device == options.get("device", "cpu")
    assert weight.dtype == ("bfloat16" if options.get("precision") else "float32")


def test_called_under_no_grad_or_inference_mode_it_reports_as_the_cli() -> None:
    """A notebook's ``with torch.no_grad():`` must not change the figures (the CLI's process
    has autograd on), and the caller's mode is back afterwards."""
    model, x = _used_cnn()
    plain = netscope.inspect(model, x).to_dict()
    with torch.no_grad():
        assert netscope.inspect(model, x).to_dict() == plain
        assert not torch.is_grad_enabled()
    with torch.inference_mode():
        made_here = x.clone()  # an inference tensor
        assert netscope.inspect(model, made_here).to_dict() == plain
        assert torch.is_inference_mode_enabled()
    assert plain["forward"]["backward_ran"] is True
