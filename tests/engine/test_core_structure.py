"""Ties counted once, lazy parameters before and after, unregistered tensors, model unchanged."""

from __future__ import annotations

import torch
from core_helpers import sample, snap, write_model
from torch import nn

from netscope.engine.api import snapshot_loaded
from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions


def test_shared_layer_is_one_block_at_two_paths_and_tied() -> None:
    snapshot = snap(sample("shared_layer.py"))
    assert snapshot.block_by_path["2"].aliases == ("4",)
    assert snapshot.block_by_path["4"].aliases == ("2",)
    assert snapshot.block_by_path["2"].calls == 2 and snapshot.block_by_path["2"].shared
    assert [g.names for g in snapshot.ties] == [("2.weight", "4.weight"), ("2.bias", "4.bias")]
    assert snapshot.ties[0].how == "same parameter" and snapshot.ties[0].numel == 64
    assert snapshot.tie_members("4.weight") == ("2.weight", "4.weight")
    assert "sum of the gradients" in snapshot.ties[0].note
    assert snapshot.total_params == 121 and snapshot.trainable_params == 121


def test_hugging_face_style_tied_embedding_counted_once() -> None:
    snapshot = snap(sample("tied_embedding.py"))
    group = snapshot.ties[0]
    assert group.names == ("embed_tokens.weight", "lm_head.weight")
    assert snapshot.block_by_path["lm_head"].params == 3200
    assert snapshot.total_params == snapshot.blocks[0].total_params == 3200 + 2 * (64 + 8352)
    lm_head = snapshot.tensor_by_name["lm_head.weight"]
    assert lm_head.tie_group == 0 and lm_head.grad.present


def test_storage_overlap_is_a_tie(tmp_path) -> None:
    path = write_model(
        tmp_path,
        "views.py",
        """
        import torch
        from torch import nn

        class Halves(nn.Module):
            def __init__(self):
                super().__init__()
                self.whole = nn.Parameter(torch.ones(4, 2))
                self.top = nn.Parameter(self.whole.data[:2])

            def forward(self, x):
                return x @ self.whole.T

        def build_model():
            return Halves()
    """,
    )
    snapshot = snap(path)
    assert snapshot.ties[0].names == ("whole", "top") and snapshot.ties[0].how == "shared storage"
    assert snapshot.total_params == 8


def test_lazy_parameters_before_and_after_the_forward(tmp_path) -> None:
    before = snap(sample("lazy_mlp.py"), input_shape=None)
    first = before.tensor_by_name["0.weight"]
    assert first.was_lazy and first.initialized and first.shape == (256, 20)
    path = write_model(
        tmp_path,
        "lazy_only.py",
        """
        from torch import nn

        def build_model():
            return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Linear(8, 2))
    """,
    )
    lazy = snap(path)
    weight = lazy.tensor_by_name["0.weight"]
    assert not weight.initialized and weight.shape is None and weight.numel is None
    assert weight.stats is None and lazy.total_bytes is None
    assert lazy.total_params == 18 and not lazy.forward.ran
    assert "example_input()" in lazy.forward.note and "--input-shape" in lazy.forward.note
    assert any(f.code == "uninitialized" for f in lazy.findings)
    after = snap(path, input_shape=(2, 5))
    weight = after.tensor_by_name["0.weight"]
    assert weight.initialized and weight.was_lazy and weight.shape == (8, 5)


LAZY_BATCHNORM = """
    import torch
    from torch import nn

    def build_model():
        return nn.Sequential(nn.LazyLinear(8), nn.LazyBatchNorm1d(), nn.Linear(8, 2))
"""


def test_lazy_buffers_are_lazy_like_lazy_parameters(tmp_path) -> None:
    """A LazyBatchNorm's running stats are UninitializedBuffer: lazy, as its weight is."""
    from netscope.app.markers import tensor_markers

    path = write_model(tmp_path, "lazy_bn.py", LAZY_BATCHNORM)
    after = snap(path, input_shape=(4, 5))
    mean = after.tensor_by_name["1.running_mean"]
    assert mean.kind == "buffer" and mean.initialized and mean.shape == (8,)
    assert mean.was_lazy and after.tensor_by_name["1.running_var"].was_lazy
    assert "lazy" in tensor_markers(mean)
    assert not after.tensor_by_name["1.num_batches_tracked"].was_lazy  # a plain tensor
    before = snap(path)
    (finding,) = [f for f in before.findings if f.code == "uninitialized"]
    assert "4 lazy parameter(s) and 2 lazy buffer(s)" in finding.message


def test_unregistered_tensors_found() -> None:
    snapshot = snap(sample("chimera.py"))
    (found,) = snapshot.unregistered
    assert (found.module, found.attribute, found.shape) == ("2", "rand_weight", (20, 20))
    assert snapshot.block_by_path["2"].unregistered == (found,)
    assert any(f.code == "unregistered-tensor" for f in snapshot.findings)
    demo = snap(str(__import__("netscope.demo", fromlist=["x"]).demo_target()))
    assert [u.attribute for u in demo.unregistered] == ["temperature"]
    assert demo.ties and any(p.was_lazy for p in demo.parameters)


def test_snapshot_leaves_the_model_unchanged() -> None:
    loaded = load_target(LoadOptions(sample("nest_mlp.py")))
    model = loaded.model
    model.train()
    model[0].net.eval()  # mixed modes must come back exactly
    marker = torch.full_like(model[1].weight, 7.0)
    model[1].weight.grad = marker
    before = {k: v.clone() for k, v in model.state_dict().items()}
    snapshot_loaded(loaded)
    assert model.training and not model[0].net.training and model[0].linear.training
    assert model[1].weight.grad is marker
    assert all(p.grad is None for n, p in model.named_parameters() if n != "1.weight")
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert not module._backward_hooks
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_batchnorm_statistics_untouched(tmp_path) -> None:
    from torch.nn.modules.module import _global_forward_hooks

    path = write_model(
        tmp_path,
        "bn.py",
        """
        import torch
        from torch import nn

        def build_model():
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5))

        def example_input():
            return torch.randn(2, 3, 8, 8)
    """,
    )
    loaded = load_target(LoadOptions(path))
    bn = loaded.model[1]
    mean, count = bn.running_mean.clone(), int(bn.num_batches_tracked)
    snapshot = snapshot_loaded(loaded)
    assert torch.equal(bn.running_mean, mean) and int(bn.num_batches_tracked) == count
    assert snapshot.buffers[0].name == "1.running_mean" and snapshot.buffers[0].persistent
    assert snapshot.total_params == 3 * 4 * 9 + 4 + 8 and not _global_forward_hooks
    assert isinstance(loaded.model, nn.Module) and loaded.model.training


def test_the_structure_preview_and_the_snapshot_hold_the_same_bytes() -> None:
    """The app's first tree (before any forward) and the full snapshot count held bytes by one
    rule: a tie group once (the tied head's 12,800 B not twice), nothing while a tensor is lazy."""
    from netscope.engine.snapshot.structure import structure_snapshot

    for name, expected_tied in (("tied_embedding.py", True), ("lazy_mlp.py", False)):
        options = LoadOptions(sample(name), backward=False)
        preview = structure_snapshot(load_target(options))
        assert preview is not None
        full = snapshot_loaded(load_target(options))
        if expected_tied:
            assert preview.ties and preview.total_bytes is not None
            params = sum(p.bytes or 0 for p in preview.parameters)
            assert preview.total_bytes < params  # the tie group counted once
            assert preview.total_bytes == full.total_bytes
        else:
            assert preview.total_bytes is None  # lazy: not available, never a guess
