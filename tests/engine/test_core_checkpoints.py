"""Checkpoints alone, nested Lightning-style dicts, safetensors, --weights diffs, unsafe pickles."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from core_helpers import sample, snap, write_model
from safetensors.torch import save_file, save_model
from torch import nn

from netscope.engine.errors import NetscopeError
from netscope.engine.load.reader import read_checkpoint


def _tied_lm() -> nn.Module:
    import importlib.util

    spec = importlib.util.spec_from_file_location("tied_sample", sample("tied_embedding.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


def test_lightning_style_nested_checkpoint_alone(tmp_path) -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    path = tmp_path / "run.ckpt"
    torch.save({"epoch": 3, "state_dict": model.state_dict(),
                "optimizer_states": [optimizer.state_dict()], "hyper_parameters": {"lr": 0.1}},
               path)  # fmt: skip
    checkpoint = read_checkpoint(str(path))
    assert checkpoint.found_under == "state_dict" and "optimizer_states" in checkpoint.other_entries
    snapshot = snap(str(path))
    assert snapshot.kind == "checkpoint" and snapshot.total_params == 23
    assert [b.path for b in snapshot.blocks] == ["", "0", "2"]
    assert snapshot.block_by_path["0"].parameter_names == ("0.weight", "0.bias")
    assert snapshot.tensor_by_name["2.weight"].stats.max is not None
    assert not snapshot.forward.ran and "--weights" in snapshot.forward.note


def test_checkpoint_keys_sharing_storage_form_a_tie(tmp_path) -> None:
    path = tmp_path / "tied.pt"
    torch.save(_tied_lm().state_dict(), path)
    snapshot = snap(str(path))
    assert snapshot.ties[0].names == ("embed_tokens.weight", "lm_head.weight")
    assert snapshot.ties[0].how == "shared storage"
    assert snapshot.total_params == 20032


def test_safetensors_alone_reads_header(tmp_path) -> None:
    path = tmp_path / "model.safetensors"
    save_model(_tied_lm(), str(path))  # one name per tie group, like save_pretrained
    header_only = read_checkpoint(str(path), values=False)
    assert header_only.tensors["embed_tokens.weight"].device.type == "meta"
    snapshot = snap(str(path))
    names = {p.name for p in snapshot.parameters}
    assert len(names & {"embed_tokens.weight", "lm_head.weight"}) == 1
    assert snapshot.total_params == 20032
    assert snapshot.parameters[0].stats is not None  # small: values were read


def test_weights_diff_with_covered_by_tie(tmp_path) -> None:
    model = _tied_lm()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state.pop("lm_head.weight")  # saved once per tie group
    state.pop("blocks.1.ln.bias")  # really missing
    state["blocks.0.ff.0.weight"] = torch.zeros(5, 5)  # shape mismatch
    state["blocks.0.ln.weight"] = state["blocks.0.ln.weight"].double()  # dtype mismatch
    state["extra.weight"] = torch.ones(2)
    path = tmp_path / "weights.safetensors"
    save_file(state, str(path))
    snapshot = snap(sample("tied_embedding.py"), weights=str(path))
    diff = snapshot.checkpoint
    assert diff.covered_by_tie == (("lm_head.weight", "embed_tokens.weight"),)
    assert diff.missing == ("blocks.1.ln.bias",)
    assert diff.unexpected == ("extra.weight",)
    assert {(m.key, m.kind) for m in diff.mismatched} == {
        ("blocks.0.ff.0.weight", "shape"),
        ("blocks.0.ln.weight", "dtype"),
    }
    assert not diff.clean and diff.loaded == len(state) - 2
    assert snapshot.tensor_by_name["embed_tokens.weight"].stats.mean == pytest.approx(
        state["embed_tokens.weight"].mean().item(), abs=1e-6
    )
    assert any(f.code == "checkpoint-missing" for f in snapshot.findings)


def test_save_mlp_params_round_trip(tmp_path, monkeypatch) -> None:
    import runpy

    monkeypatch.chdir(tmp_path)
    runpy.run_path(sample("save_mlp.py"), run_name="__main__")
    snapshot = snap(sample("save_mlp.py"), weights=str(tmp_path / "mlp.params"))
    assert snapshot.checkpoint.clean and snapshot.checkpoint.loaded == 4
    alone = snap(str(tmp_path / "mlp.params"))
    assert [b.path for b in alone.blocks] == ["", "hidden", "output"]


def test_whole_pickled_module_refused_then_trusted(tmp_path) -> None:
    path = tmp_path / "whole.pt"
    torch.save(nn.Sequential(nn.Linear(2, 2)), path)
    with pytest.raises(NetscopeError) as err:
        snap(str(path))
    text = str(err.value)
    assert "whole.pt" in text and "--trust-pickle" in text and "torch.nn" in text
    trusted = snap(str(path), trust_pickle=True)
    assert trusted.kind == "model" and trusted.total_params == 6


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_truncated_checkpoint(tmp_path, suffix: str) -> None:
    whole = tmp_path / f"whole{suffix}"
    state = {"w": torch.randn(64, 64)}
    torch.save(state, whole) if suffix == ".pt" else save_file(state, str(whole))
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    with pytest.raises(NetscopeError) as err:
        snap(str(cut))
    assert f"cut{suffix}" in str(err.value) and "truncated or corrupt" in str(err.value)
    with pytest.raises(NetscopeError) as err:
        snap(write_model(tmp_path, "m.py", "from torch import nn\nbuild_model = nn.ReLU\n"),
             weights=str(cut))  # fmt: skip
    assert f"cut{suffix}" in str(err.value)


def test_large_checkpoint_reads_metadata_only_unless_stats_is_asked(tmp_path, monkeypatch) -> None:
    """Above the limit (lowered here from 256 MB) values are not read; --stats reads them."""
    from netscope.engine import options as engine_options

    monkeypatch.setattr(engine_options, "STATS_LIMIT_BYTES", 1024)
    path = tmp_path / "big.pt"
    torch.save({"layer.weight": torch.ones(64, 64)}, path)  # 16 KiB > 1 KiB
    quick = snap(str(path))
    assert quick.parameters[0].stats is None and quick.parameters[0].shape == (64, 64)
    assert "--stats reads every value" in quick.forward.note
    full = snap(str(path), all_stats=True)
    assert full.parameters[0].stats is not None and full.parameters[0].stats.mean == 1.0


def test_checkpoint_alone_counts_batchnorm_statistics_as_buffers(tmp_path) -> None:
    """A bare state_dict's running stats and integer tensors are buffers; trainable is n/a."""
    import json

    from netscope.report.write import write_report

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1))
    path = tmp_path / "bn.pt"
    torch.save(model.state_dict(), path)
    snapshot = snap(str(path))
    assert snapshot.total_params == sum(p.numel() for p in model.parameters())
    assert {b.name for b in snapshot.buffers} == {n for n, _ in model.named_buffers()}
    assert all(b.kind == "buffer" for b in snapshot.buffers)
    assert snapshot.block_by_path["1"].buffer_names == (
        "1.running_mean", "1.running_var", "1.num_batches_tracked"
    )  # fmt: skip
    assert snapshot.trainable_params is None
    assert "counted as buffers by their names and dtypes" in snapshot.forward.note
    markdown = Path(write_report(str(tmp_path / "bn.md"), snapshot)).read_text()
    assert f"| Parameters | {snapshot.total_params:,} (ties counted once) |" in markdown
    assert "| Trainable | n/a (a checkpoint does not record requires_grad) |" in markdown
    report = json.loads(Path(write_report(str(tmp_path / "bn.json"), snapshot)).read_text())
    assert report["model"]["trainable_params"] is None
    assert len(report["model"]["buffers"]) == 3


def test_tied_keys_with_different_values_say_which_one_the_model_holds(tmp_path) -> None:
    """A checkpoint storing both names of a tie with different values: the model holds one
    tensor, so one silently overwrote the other (the stats of both read the winner's)."""
    model = _tied_lm()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["embed_tokens.weight"] = torch.full_like(state["embed_tokens.weight"], 0.5)
    state["lm_head.weight"] = torch.full_like(state["lm_head.weight"], -2.0)
    path = tmp_path / "both.pt"
    torch.save(state, path)
    snapshot = snap(sample("tied_embedding.py"), weights=str(path))
    order = [
        name for name in model.state_dict() if name in ("embed_tokens.weight", "lm_head.weight")
    ]
    note = next(n for n in snapshot.checkpoint.notes if "different values" in n)
    assert f"different values for {', '.join(order)}" in note and f"those of {order[-1]}" in note
    held = snapshot.tensor_by_name["embed_tokens.weight"].stats.mean
    assert held == pytest.approx(state[order[-1]].mean().item())
    same = {k: v.clone() for k, v in model.state_dict().items()}  # equal values: nothing to say
    torch.save(same, path)
    quiet = snap(sample("tied_embedding.py"), weights=str(path))
    assert not any("different values" in n for n in quiet.checkpoint.notes)
