"""The details panel, tree markers and filter show what the engine adds for real-world models:
quantized packed weights, pruned and parametrized weights, weights used without a call."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from rich.console import Console

from netscope.app.details_text import block_details, tensor_details
from netscope.app.live_state import LiveState
from netscope.app.markers import block_markers, tensor_markers
from netscope.app.tree_index import TreeIndex
from netscope.engine import api  # a broken engine fails these tests, never skips them
from netscope.engine.options import LoadOptions

MODEL = """
import torch
from torch import nn
from torch.nn.utils import parametrizations, prune

class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.pruned = nn.Linear(8, 8)
        prune.l1_unstructured(self.pruned, "weight", amount=0.25)
        self.normed = parametrizations.weight_norm(nn.Linear(8, 8))
        self.quant = torch.ao.quantization.quantize_dynamic(
            nn.Sequential(nn.Linear(8, 4)), {nn.Linear}, dtype=torch.qint8
        )

    def forward(self, x):
        y, _ = self.attn(x, x, x)
        return self.quant(self.normed(self.pruned(y)))

def build_model():
    torch.manual_seed(0)
    return Mixed()

def example_input():
    return torch.randn(2, 3, 8)
"""


def _text(renderable) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> TreeIndex:
    path = tmp_path_factory.mktemp("mixed") / "mixed.py"
    path.write_text(textwrap.dedent(MODEL))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TreeIndex(api.take_snapshot(LoadOptions(str(path))))


def test_packed_weight_details_and_marker(index) -> None:
    info = index.snapshot.tensor_by_name["quant.0._packed_params.weight"]
    assert "quantized" in tensor_markers(info)
    text = _text(tensor_details(info, index))
    assert "qint8" in text and "per_tensor_affine scale" in text and "zero_point 0" in text
    assert "LinearPackedParams" in text and "dequantized" in text
    assert info.name in {k.name for k in index.matches("quantized")}


def test_pruned_and_parametrized_show_what_computes_them(index) -> None:
    pruned = index.snapshot.block_by_path["pruned"]
    assert "pruned" in block_markers(pruned) and "unregistered" not in block_markers(pruned)
    text = _text(block_details(pruned, index, LiveState()))
    assert "weight = weight_orig * weight_mask" in text and "L1Unstructured" in text
    orig = index.snapshot.tensor_by_name["normed.parametrizations.weight.original0"]
    assert "parametrized" in tensor_markers(orig)
    assert "_WeightNorm" in _text(tensor_details(orig, index))
    assert "pruned.weight_orig" in {k.name for k in index.matches("pruned")}


def test_out_proj_shows_who_used_its_weights(index) -> None:
    out_proj = index.snapshot.block_by_path["attn.out_proj"]
    assert "unused" not in block_markers(out_proj)
    text = _text(block_details(out_proj, index, LiveState()))
    assert "weights used" in text and "by the forward of attn" in text
