"""Every sample model loads and snapshots with the facts the chapter is about."""

from __future__ import annotations

import pytest
from core_helpers import sample, snap

from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions

SMALL = {
    "mlp.py": 20 * 256 + 256 + 256 * 10 + 10,
    "my_sequential.py": 20 * 256 + 256 + 256 * 10 + 10,
    "fixed_hidden_mlp.py": 20 * 20 + 20,
    "nest_mlp.py": 20 * 64 + 64 + 64 * 32 + 32 + 32 * 16 + 16 + 16 * 20 + 20,
    "chimera.py": 4292 + 420,
    "rgnet.py": 4 * (4 * 8 + 8 + 8 * 4 + 4) + 5,
    "shared_layer.py": 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1,
    "lazy_mlp.py": 20 * 256 + 256 + 256 * 10 + 10,
    "custom_layers.py": 64 * 8 + 8 + 8 * 128 + 128,
    "save_mlp.py": 20 * 256 + 256 + 256 * 10 + 10,
    "tied_embedding.py": 100 * 32 + 2 * (64 + 32 * 128 + 128 + 128 * 32 + 32),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_sample_snapshot_counts(name: str) -> None:
    snapshot = snap(sample(name))
    assert snapshot.kind == "model"
    assert snapshot.total_params == SMALL[name]
    assert snapshot.forward.ran and snapshot.forward.backward_ran
    assert snapshot.blocks[0].path == "" and snapshot.blocks[0].calls == 1
    assert snapshot.blocks[0].total_params == SMALL[name]


def test_block_paths_follow_named_modules_and_factory_names() -> None:
    snapshot = snap(sample("rgnet.py"))
    loaded = load_target(LoadOptions(sample("rgnet.py")))
    assert [b.path for b in snapshot.blocks] == [p for p, _ in loaded.model.named_modules()]
    assert "0.block2.0.weight" in snapshot.tensor_by_name
    block = snapshot.block_by_path["0.block2"]
    assert block.type == "Sequential" and not block.custom and block.parent == "0"
    assert block.children == ("0.block2.0", "0.block2.1", "0.block2.2", "0.block2.3")
    assert snapshot.block_by_path["1"].outputs[0].shape == (2, 1)


def test_custom_blocks_have_source_lines_and_outputs() -> None:
    snapshot = snap(sample("custom_layers.py"))
    centered = snapshot.block_by_path["2"]
    assert centered.custom and centered.type == "CenteredLayer"
    assert centered.source is not None and centered.source.endswith("custom_layers.py:8")
    assert centered.outputs[0].shape == (2, 128) and centered.outputs[0].dtype == "float32"
    assert centered.activation is not None and abs(centered.activation.mean) < 1e-5
    assert snapshot.source is not None and "custom_layers.py:" in snapshot.source
    # MyLinear uses .data in forward (as the chapter does): its parameters get no gradient.
    unused = {f.subject for f in snapshot.findings if f.code == "unused-parameter"}
    assert unused == {"0.weight", "0.bias"}
    assert snapshot.tensor_by_name["1.weight"].grad.present


def test_dict_output_and_loss_function() -> None:
    snapshot = snap(sample("tied_embedding.py"))
    assert snapshot.blocks[0].outputs[0].label == "logits"
    assert snapshot.blocks[0].outputs[0].shape == (2, 8, 100)
    assert snapshot.forward.loss_source == "loss(output, batch)"
    assert snapshot.block_by_path["blocks"].calls is None  # a ModuleList is never called
    assert snapshot.block_by_path["blocks.0"].calls == 1


def test_stats_are_real_numbers() -> None:
    snapshot = snap(sample("mlp.py"))
    weight = snapshot.tensor_by_name["0.weight"]
    assert weight.shape == (256, 20) and weight.dtype == "float32" and weight.device == "cpu"
    assert weight.stats is not None and weight.stats.nan == 0
    assert -0.25 < weight.stats.min < weight.stats.max < 0.25
    assert sum(weight.stats.histogram) == 256 * 20 and len(weight.stats.histogram) == 16
    assert weight.grad is not None and weight.grad.present and weight.grad.norm > 0
    relu = snapshot.block_by_path["1"]
    assert 0 < relu.activation.zero_fraction < 1


def test_named_targets_instance_class_and_function(tmp_path) -> None:
    from core_helpers import write_model

    path = write_model(
        tmp_path,
        "named.py",
        """
        import torch
        from torch import nn

        net = nn.Linear(3, 2)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 4)

            def forward(self, x):
                return self.fc(x)

        def make():
            return nn.Sequential(nn.Linear(3, 5))

        def example_input():
            return (torch.ones(1, 3),)
    """,
    )
    assert snap(f"{path}:net").total_params == 8
    by_class = snap(f"{path}:Net")
    assert by_class.total_params == 16 and by_class.source.endswith("named.py:6")
    assert snap(f"{path}:make").total_params == 20


def test_input_shape_synthesizes_an_input(tmp_path) -> None:
    from core_helpers import write_model

    path = write_model(
        tmp_path,
        "plain.py",
        """
        from torch import nn

        def build_model():
            return nn.Embedding(10, 4)
    """,
    )
    snapshot = snap(path, input_shape=(2, 3), input_dtype="int64")
    assert snapshot.forward.ran
    assert snapshot.blocks[0].outputs[0].shape == (2, 3, 4)
    assert "--input-shape 2,3" in snapshot.forward.input_summary
