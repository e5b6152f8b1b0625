"""Real-world defects (issue 7, items 5 and 6) on real torch / transformers models, no mocks.

Quantized packed weights, MultiheadAttention's out_proj, pruning and parametrizations, complex
gradients, generator outputs, list inputs, step() batches and library frames in errors.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from core_helpers import line_of, snap, write_model
from torch import nn

from netscope.engine.errors import NetscopeError
from netscope.report.serialize import report_dict

QUANTIZED_MLP = """
import torch
from torch import nn

def build_model():
    torch.manual_seed(0)
    mlp = nn.Sequential(
        nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    return torch.ao.quantization.quantize_dynamic(mlp, {nn.Linear}, dtype=torch.qint8)

def example_input():
    return torch.randn(2, 20)
"""
LINEARS = (("0", 20, 64), ("2", 64, 64), ("4", 64, 10))


@pytest.fixture(autouse=True)
def _quiet_quantization_deprecations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _codes(snapshot) -> list[str]:
    return [f.code for f in snapshot.findings]


def test_dynamic_quantized_mlp_lists_packed_int8_weights(tmp_path) -> None:
    snapshot = snap(write_model(tmp_path, "qmlp.py", QUANTIZED_MLP))
    by_name = snapshot.tensor_by_name
    expected_total = 0
    for block, fan_in, fan_out in LINEARS:
        weight = by_name[f"{block}._packed_params.weight"]
        bias = by_name[f"{block}._packed_params.bias"]
        assert "qint8" in weight.dtype and weight.shape == (fan_out, fan_in)
        assert weight.numel == fan_in * fan_out and weight.bytes == fan_in * fan_out  # 1 byte
        assert weight.quantization is not None
        assert weight.quantization.scheme == "per_tensor_affine"
        assert weight.quantization.scale is not None and weight.quantization.scale > 0
        assert weight.quantization.zero_point == 0
        assert weight.role == "packed" and "LinearPackedParams" in weight.note
        assert weight.stats is not None and weight.stats.over == "dequantized"
        assert bias.dtype == "float32" and bias.shape == (fan_out,) and bias.bytes == 4 * fan_out
        assert not weight.requires_grad and not bias.requires_grad  # packed: no gradient
        expected_total += fan_in * fan_out + fan_out
    assert snapshot.total_params == expected_total and snapshot.trainable_params == 0
    holder = snapshot.block_by_path["0._packed_params"]
    assert (
        holder.params == 20 * 64 + 64 and snapshot.block_by_path[""].total_params == expected_total
    )
    assert holder.calls == 0 and holder.weights_used_by == "0" and not holder.unused
    codes = _codes(snapshot)
    assert "unused-block" not in codes and "unused-parameter" not in codes
    assert "weights-used-without-call" not in codes  # packed storage is read, never called
    as_json = report_dict(snapshot)["model"]["parameters"]
    row = next(p for p in as_json if p["name"] == "4._packed_params.weight")
    assert row["dtype"] == "qint8" and row["quantization"]["scheme"] == "per_tensor_affine"
    assert row["numel"] == 640 and row["role"] == "packed"


def test_quantized_state_dict_keeps_packed_tuples(tmp_path) -> None:
    path = write_model(tmp_path, "qmlp.py", QUANTIZED_MLP)
    model_snapshot = snap(path)
    torch.manual_seed(0)
    mlp = nn.Sequential(
        nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    quantized = torch.ao.quantization.quantize_dynamic(mlp, {nn.Linear}, dtype=torch.qint8)
    ckpt = tmp_path / "qmlp.pt"
    torch.save(quantized.state_dict(), ckpt)
    snapshot = snap(str(ckpt))
    names = {p.name for p in snapshot.parameters}
    for block, fan_in, fan_out in LINEARS:
        weight = snapshot.tensor_by_name[f"{block}._packed_params.weight"]
        assert "qint8" in weight.dtype and weight.shape == (fan_out, fan_in)
        assert weight.quantization is not None and weight.quantization.scale is not None
        assert weight.stats is not None and weight.stats.max is not None
        assert f"{block}._packed_params.bias" in names
    packed = {p.name for p in model_snapshot.parameters}
    assert packed <= names  # the checkpoint names its tensors as the model snapshot does
    assert snapshot.total_params >= model_snapshot.total_params


def test_dynamic_quantized_lstm_lists_its_packed_weights(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "qlstm.py",
        """
        import torch
        from torch import nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(4, 8)
                self.fc = nn.Linear(8, 2)

            def forward(self, x):
                return self.fc(self.rnn(x)[0])

        def build_model():
            return torch.ao.quantization.quantize_dynamic(Tagger(), {nn.LSTM, nn.Linear})

        def example_input():
            return torch.randn(3, 2, 4)
        """,
    )
    snapshot = snap(path)
    by_name = snapshot.tensor_by_name
    assert by_name["rnn.weight_ih_l0"].dtype == "qint8"
    assert by_name["rnn.weight_ih_l0"].shape == (32, 4)
    assert by_name["rnn.weight_hh_l0"].shape == (32, 8)
    assert by_name["rnn.bias_ih_l0"].role == "packed"
    assert snapshot.total_params == 32 * 4 + 32 * 8 + 32 + 32 + 2 * 8 + 2
    codes = _codes(snapshot)
    assert "unused-block" not in codes and "weights-used-without-call" not in codes


MHA = """
import torch
from torch import nn

class Attend(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.head = nn.Linear(16, 2)
        self.spare = nn.Linear(16, 2)

    def forward(self, x):
        y, _ = self.attn(x, x, x)
        return self.head(y)

def build_model():
    return Attend()

def example_input():
    return torch.randn(2, 5, 16)
"""


@pytest.mark.parametrize("backward", [True, False])
def test_multihead_attention_out_proj_is_used_not_unused(tmp_path, backward) -> None:
    snapshot = snap(write_model(tmp_path, "mha.py", MHA), backward=backward)
    out_proj = snapshot.block_by_path["attn.out_proj"]
    assert out_proj.calls == 0 and out_proj.weights_used_by == "attn" and not out_proj.unused
    assert snapshot.block_by_path["spare"].unused  # a really unused block is still flagged
    unused = [f.subject for f in snapshot.findings if f.code == "unused-block"]
    assert unused == ["spare"]
    used = [f for f in snapshot.findings if f.code == "weights-used-without-call"]
    assert [f.subject for f in used] == ["attn.out_proj"]
    assert "MultiheadAttention" in used[0].message
    if backward:
        assert snapshot.tensor_by_name["attn.out_proj.weight"].grad.present


PRUNED = """
import torch
from torch import nn
from torch.nn.utils import parametrizations, prune

def build_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 4))
    prune.l1_unstructured(model[0], "weight", amount=0.5)
    parametrizations.weight_norm(model[1])
    parametrizations.orthogonal(model[2])
    return model

def example_input():
    return torch.randn(3, 8)
"""


def test_pruning_and_parametrizations_are_named_not_unregistered(tmp_path) -> None:
    snapshot = snap(write_model(tmp_path, "pruned.py", PRUNED))
    codes = _codes(snapshot)
    assert "unregistered-tensor" not in codes and snapshot.unregistered == ()
    assert not snapshot.block_by_path["0"].unregistered
    kinds = {d.name: (d.kind, d.method) for d in snapshot.derived}
    assert kinds == {
        "0.weight": ("pruning", "L1Unstructured"),
        "1.weight": ("parametrization", "_WeightNorm"),
        "2.weight": ("parametrization", "_Orthogonal"),
    }
    assert snapshot.tensor_by_name["0.weight_orig"].role == "pruned"
    assert snapshot.tensor_by_name["0.weight_mask"].role == "pruned"
    for name in ("1.parametrizations.weight.original0", "1.parametrizations.weight.original1"):
        assert snapshot.tensor_by_name[name].role == "parametrized"
        assert "_WeightNorm" in snapshot.tensor_by_name[name].note
    pruned = next(f for f in snapshot.findings if f.code == "pruned-tensor")
    assert "weight_orig * weight_mask" in pruned.message and "50.0%" in pruned.message
    assert "register_buffer" not in pruned.message
    assert sum(f.code == "parametrized-tensor" for f in snapshot.findings) == 2
    assert snapshot.block_by_path["0"].derived[0].sources == ("0.weight_orig", "0.weight_mask")
    as_json = report_dict(snapshot)
    assert [d["kind"] for d in as_json["model"]["derived_tensors"]] == [
        "pruning", "parametrization", "parametrization"
    ]  # fmt: skip


def test_legacy_weight_norm_hook_is_not_unregistered(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "wn.py",
        """
        import torch
        from torch import nn

        def build_model():
            return nn.Sequential(torch.nn.utils.weight_norm(nn.Linear(4, 4)))

        def example_input():
            return torch.randn(2, 4)
        """,
    )
    snapshot = snap(path)
    assert snapshot.unregistered == () and "unregistered-tensor" not in _codes(snapshot)
    assert [(d.name, d.kind) for d in snapshot.derived] == [("0.weight", "weight_norm")]
    assert snapshot.tensor_by_name["0.weight_g"].role == "parametrized"


def test_complex_parameter_gets_gradient_statistics(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "cplx.py",
        """
        import torch
        from torch import nn

        class Phase(nn.Module):
            def __init__(self):
                super().__init__()
                self.z = nn.Parameter(torch.randn(8, dtype=torch.complex64))

            def forward(self, x):
                return (x * self.z).abs()

        def build_model():
            return Phase()

        def example_input():
            return torch.randn(2, 8)
        """,
    )
    snapshot = snap(path)
    assert snapshot.forward.backward_ran
    z = snapshot.tensor_by_name["z"]
    assert z.dtype == "complex64" and z.grad is not None and z.grad.present
    assert z.grad.norm is not None and z.grad.norm > 0 and z.grad.over == "magnitude"
    assert z.grad.max_abs is not None and z.grad.mean is not None
    assert z.stats is not None and z.stats.over == "magnitude" and z.stats.min >= 0
    assert "unused-parameter" not in _codes(snapshot)


def test_forward_returning_a_generator_is_consumed_and_flagged(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "gen.py",
        """
        import torch
        from torch import nn

        class Lazy(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, xs):  # FORWARD
                return (self.fc(x) for x in xs)

        def build_model():
            return Lazy()

        def example_input():
            return torch.randn(3, 4)
        """,
    )
    snapshot = snap(path)
    assert snapshot.block_by_path["fc"].calls == 3
    assert "unused-block" not in _codes(snapshot)
    finding = next(f for f in snapshot.findings if f.code == "forward-returns-iterator")
    assert finding.severity == "warning" and "generator" in finding.message
    assert finding.location == f"{path}:{line_of(path, 'FORWARD')}"
    assert snapshot.forward.backward_ran
    assert snapshot.tensor_by_name["fc.weight"].grad.present


DETECTOR = """
import torch
from torch import nn

class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3)

    def forward(self, images{annotation}, targets=None):
        return [self.backbone(image[None]).mean((2, 3)) for image in images]

def build_model():
    return Detector()

def example_input():  # EXAMPLE
    return {value}
"""


def _detector(tmp_path, value: str, annotation: str = ": list[torch.Tensor]") -> str:
    source = DETECTOR.format(value=value, annotation=annotation)
    return write_model(tmp_path, "detector.py", source)


def test_list_input_spread_into_positional_arguments_is_explained(tmp_path) -> None:
    path = _detector(tmp_path, "[torch.randn(3, 16, 16), torch.randn(3, 20, 24)]")
    with pytest.raises(NetscopeError) as err:
        snap(path)
    error = err.value
    assert "returned a list of 2" in error.message and "images" in error.message
    assert error.location == f"{path}:{line_of(path, 'EXAMPLE')}"
    assert error.hint is not None and "return ([img1, img2],)" in error.hint


def test_list_input_too_long_for_forward_is_explained(tmp_path) -> None:
    three = "[torch.randn(3, 8, 8), torch.randn(3, 8, 8), torch.randn(3, 8, 8)]"
    path = _detector(tmp_path, three, annotation="")
    with pytest.raises(NetscopeError) as err:
        snap(path)
    assert "does not fit forward" in err.value.message and "tuple" in err.value.hint


def test_unannotated_list_forward_failure_gets_the_hint(tmp_path) -> None:
    path = _detector(tmp_path, "[torch.randn(3, 16, 16), torch.randn(3, 20, 24)]", annotation="")
    with pytest.raises(NetscopeError) as err:
        snap(path)
    assert err.value.hint is not None and "return ([img1, img2],)" in err.value.hint


def test_list_inside_a_tuple_reaches_forward_whole(tmp_path) -> None:
    path = _detector(tmp_path, "([torch.randn(3, 16, 16), torch.randn(3, 20, 24)],)")
    snapshot = snap(path)
    assert snapshot.forward.ran and snapshot.block_by_path["backbone"].calls == 2
    assert snapshot.forward.input_summary.startswith("list[")


STEP_FILE = """
import torch
from torch import nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.9)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.drop(x))

MODEL_OPTIMIZERS = {{}}

def build_model():
    return Classifier()

def example_input():
    return {{"x": torch.randn(4, 8), "label": torch.tensor([0, 1, 1, 0])}}

def step(model, batch):
    model.train()
    optimizer = MODEL_OPTIMIZERS.setdefault(id(model), torch.optim.SGD(model.parameters(), lr=1.0))
    out = model(batch["x"]){after}
    loss = nn.functional.cross_entropy(out, batch["label"])
    loss.backward()
    optimizer.step()
    return loss
"""


def test_step_with_dict_batch_calls_the_model_as_step_does(tmp_path) -> None:
    from netscope.engine.api import snapshot_loaded
    from netscope.engine.load.target import load_target
    from netscope.engine.options import LoadOptions

    path = write_model(tmp_path, "stepped.py", STEP_FILE.format(after=""))
    loaded = load_target(LoadOptions(path))
    before = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    snapshot = snapshot_loaded(loaded)
    assert snapshot.forward.ran and snapshot.forward.backward_ran
    assert snapshot.forward.input_summary == "tensor(4, 8) float32 from step(model, batch)"
    assert snapshot.block_by_path["fc"].calls == 1
    assert snapshot.block_by_path["fc"].outputs[0].shape == (4, 2)
    after = loaded.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the optimizer never stepped
    drop = snapshot.block_by_path["drop"].activation  # the step's model.train() did not stick:
    assert drop is not None and drop.zero_fraction == 0  # dropout was off (eval) in the forward


def test_step_that_never_calls_the_model_does_not_spread_the_dict(tmp_path) -> None:
    source = STEP_FILE.format(after="").replace(
        'out = model(batch["x"])', 'out = model.fc(batch["x"])'
    )
    path = write_model(tmp_path, "stepped.py", source)
    snapshot = snap(path)
    assert not snapshot.forward.ran
    assert "not spread into model(**batch)" in snapshot.forward.note


BERT = """
import torch
from torch import nn
from transformers import BertConfig, BertModel

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        config = BertConfig(
            vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=32, max_position_embeddings=16,
        )
        self.bert = BertModel(config)

    def forward(self, ids):
        return self.bert(input_ids=ids).last_hidden_state  # USER LINE

def build_model():
    torch.manual_seed(0)
    return Encoder()

def example_input():
    return torch.randint(0, 50, (2, 40))  # longer than max_position_embeddings
"""


def test_library_error_names_the_users_line_first(tmp_path, monkeypatch) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = write_model(tmp_path, "bert_model.py", BERT)
    with pytest.raises(NetscopeError) as err:
        snap(path)
    error = err.value
    assert error.location == f"{path}:{line_of(path, 'USER LINE')}"
    assert error.library_location is not None
    assert error.library_location.startswith("transformers/models/bert/modeling_bert.py:")
    text = str(error)
    assert text.index(error.location) < text.index(error.library_location)
    assert "bert.embeddings" in error.message  # the failing block is still named


TIED_UNCALLED = """
import torch
from torch import nn

class TiedHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.head = nn.Linear(8, 10, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, x):
        return self.head(x)

def build_model():
    return TiedHead()

def example_input():
    return torch.randn(2, 8)
"""


def test_tied_weight_used_by_a_builtin_leaf_is_seen(tmp_path) -> None:
    """The weight-use mode steps aside inside built-in leaves, but not in one whose tensor
    another block holds: the uncalled embedding's tied weight is used by the head."""
    snapshot = snap(write_model(tmp_path, "tied.py", TIED_UNCALLED))
    embed = snapshot.block_by_path["embed"]
    assert embed.calls == 0 and embed.weights_used_by == "head" and not embed.unused
    assert snapshot.block_by_path["head"].calls == 1


RAISES_IN_LEAF = """
import torch
from torch import nn

def build_model():
    return nn.Sequential(nn.Linear(4, 4), nn.Linear(5, 2))

def example_input():
    return torch.randn(2, 4)
"""


def test_forward_raising_inside_a_builtin_leaf_leaves_torch_and_gc_as_they_were(tmp_path) -> None:
    import gc

    with pytest.raises(NetscopeError, match="example forward"):
        snap(write_model(tmp_path, "raises.py", RAISES_IN_LEAF))
    assert torch._C._len_torch_function_stack() == 0  # no netscope mode left on torch's stack
    assert gc.isenabled()
    snapshot = snap(write_model(tmp_path, "mha.py", MHA))  # the next snapshot runs as usual
    assert snapshot.block_by_path["attn.out_proj"].weights_used_by == "attn"
