"""One walk over nested inputs and outputs (engine/nested.py, on torch's pytree) with its limits
as parameters; what the snapshot labels a block's outputs with comes from it."""

from __future__ import annotations

from collections import namedtuple

import torch
from transformers.modeling_outputs import CausalLMOutputWithPast

from netscope.engine.load.loaded import ExampleInput
from netscope.engine.nested import labelled_tensors, map_tensors, tensors_in
from netscope.engine.snapshot.forward import MAX_OUTPUTS, tensor_leaves

Pair = namedtuple("Pair", "first second")


def test_labels_follow_the_containers() -> None:
    a, b, c = torch.ones(1), torch.zeros(2), torch.ones(3)
    value = {"logits": a, "hidden": [b, {"deep": c}], "note": "text", "n": 3}
    assert [(label, t.numel()) for label, t in labelled_tensors(value)] == [
        ("logits", 1), ("hidden.0", 2), ("hidden.1.deep", 3)
    ]  # fmt: skip
    assert labelled_tensors(a) == [("", a)]
    assert [label for label, _ in labelled_tensors(value, max_depth=2)] == ["logits", "hidden.0"]
    assert len(tensors_in([a] * 100, limit=7)) == 7


def test_transformers_outputs_and_named_tuples_are_walked() -> None:
    logits = torch.ones(2, 3)
    output = CausalLMOutputWithPast(logits=logits)
    assert tensor_leaves(output) == [("logits", logits)]
    moved = map_tensors(lambda t: t.to("meta"), Pair(torch.ones(1), [torch.ones(2)]))
    assert type(moved) is Pair and moved.first.is_meta and moved.second[0].is_meta
    example = ExampleInput(args=(Pair(torch.ones(1), 2),), kwargs={"m": [torch.ones(1)]})
    on_meta = example.to("meta")
    assert on_meta.args[0].first.is_meta and on_meta.args[0].second == 2
    assert on_meta.kwargs["m"][0].is_meta


def test_a_block_output_keeps_its_limits() -> None:
    many = [torch.ones(1)] * (MAX_OUTPUTS + 10)
    assert len(tensor_leaves(many)) == MAX_OUTPUTS
    deep = [[[[[torch.ones(1)]]]]]  # five containers deep: past the block output's limit
    assert tensor_leaves(deep) == [] and len(tensor_leaves(deep[0])) == 1


MODEL_TAKING_A_NAMED_TUPLE = """
from collections import namedtuple
import torch

Batch = namedtuple("Batch", "features ids")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 2)

    def forward(self, batch):
        return self.proj(batch.features).sum(-1) + batch.ids


def build_model():
    return Model()


def example_input():
    return (Batch(torch.randn(3, 4), torch.arange(3)),)
"""


def test_dtype_casts_floating_tensors_inside_named_tuples(tmp_path) -> None:
    """``--dtype`` walks the example with the same pytree walk: a named tuple is rebuilt as
    itself (a hand-written walk called ``Batch(generator)`` and crashed), integers kept."""
    from netscope.engine.api import take_snapshot
    from netscope.engine.options import LoadOptions

    path = tmp_path / "named_batch.py"
    path.write_text(MODEL_TAKING_A_NAMED_TUPLE)
    shot = take_snapshot(LoadOptions(str(path), dtype="bfloat16", backward=False))
    assert shot.forward.ran, shot.forward.note
    assert shot.forward.input_summary.startswith("Batch[tensor(3, 4) bfloat16, tensor(3) int64]")
