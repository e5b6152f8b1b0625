"""``netscope.inspect`` on real models gives the JSON ``netscope report`` writes for the same
model (a model file building it with the same seed), apart from what names the target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import netscope
from tests.api.helpers import cli_json, imported, normalized


def _inspect(name: str, **options: Any) -> netscope.Report:
    module = imported(name)
    model, example = module.build_model(), module.example_input()
    if isinstance(example, dict):
        return netscope.inspect(model, **example, **options)
    return netscope.inspect(model, example, **options)


@pytest.mark.parametrize("name", ["cnn", "gpt2_tiny", "lazy_mlp"])
def test_inspect_equals_the_cli_report(tmp_path: Path, name: str) -> None:
    report = _inspect(name)
    api = report.to_dict()
    assert normalized(api) == normalized(cli_json(tmp_path, name))
    assert api["target"] == f"<in-memory {report.snapshot.model_class}>"
    assert api["forward"]["input_summary"].endswith(" from netscope.inspect()")


def test_the_gpt2_tie_is_found_and_counted_once() -> None:
    report = _inspect("gpt2_tiny")
    assert [sorted(group.names) for group in report.ties] == [
        ["lm_head.weight", "transformer.wte.weight"]
    ]
    wte = report.tensor("transformer.wte.weight")
    assert report.total_params == sum(p.numel for p in report.parameters) - wte.numel
    assert report.compute is not None and report.compute.attention == "causal"


def test_lazy_parameters_are_reported_as_lazy_before_the_forward() -> None:
    report = _inspect("lazy_mlp")
    assert report.tensor("0.weight").was_lazy and report.tensor("0.weight").shape == (16, 7)
    assert not report.tensor("2.weight").was_lazy


def test_train_fit_and_optimizer_equal_the_cli(tmp_path: Path) -> None:
    report = _inspect("cnn", train=True, optimizer="adamw", fit="24GiB")
    cli = cli_json(tmp_path, "cnn", "--train", "--optimizer", "adamw", "--fit", "24GiB")
    assert normalized(report.to_dict()) == normalized(cli)
    assert report.memory is not None and report.memory.optimizer_bytes
    assert report.fit is not None


def test_input_size_is_the_cli_input_shape(tmp_path: Path) -> None:
    model = imported("cnn").build_model()
    report = netscope.inspect(model, input_size=(2, 3, 16, 16))
    cli = cli_json(tmp_path, "cnn", "--input-shape", "2,3,16,16")
    assert normalized(report.to_dict()) == normalized(cli)
    assert (
        report.forward.input_summary
        == "tensor(2, 3, 16, 16) float32 from input_size=(2, 3, 16, 16)"
    )


def test_input_size_takes_the_dtype_of_the_first_floating_parameter() -> None:
    model = imported("cnn").build_model().double()
    report = netscope.inspect(model, input_size=(1, 3, 8, 8))
    assert report.forward.input_summary.startswith("tensor(1, 3, 8, 8) float64")
    assert report.compute is not None and report.compute.forward_flops > 0


def test_no_arguments_says_how_to_pass_them() -> None:
    report = netscope.inspect(imported("cnn").build_model())
    assert not report.forward.ran and report.compute is None
    assert "netscope.inspect(model, x)" in report.forward.note
    assert report.total_params == report.block("").total_params


def test_a_compiled_model_is_described_by_its_original_module() -> None:
    module = imported("cnn")
    model, x = module.build_model(), module.example_input()
    plain = netscope.inspect(model, x)
    compiled = netscope.inspect(torch.compile(model), x)  # nothing compiles: run eagerly
    assert compiled.snapshot.model_class == "SmallCNN"
    assert [b.path for b in compiled.blocks] == [b.path for b in plain.blocks]
    assert compiled.compute == plain.compute
    assert "torch.compile'd" in compiled.forward.note
