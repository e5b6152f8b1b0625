"""Hugging Face folders (save_pretrained, sharded, index, one shard, peft adapter), sparse shards,
safetensors headers through the safetensors library. Real files from real saves, no mocks."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from core_helpers import snap, write_model
from safetensors import safe_open
from safetensors.torch import save_file

from netscope.engine.errors import NetscopeError
from netscope.engine.load.reader import read_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from sparse_checkpoint import llama_tensors, write_sharded

transformers = pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _gpt2():
    config = transformers.GPT2Config(
        n_layer=2, n_embd=64, n_head=2, vocab_size=100, n_positions=32, bos_token_id=0,
        eos_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(config)


def _unique_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() yields a tie once


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    model = _gpt2()
    model.save_pretrained(root / "single")
    model.save_pretrained(root / "sharded", max_shard_size="100KB")
    return {"root": root, "single": root / "single", "sharded": root / "sharded"}


def test_save_pretrained_folder_is_built_from_its_config(saved) -> None:
    """Before: 'no such checkpoint file'. Now: the real classes, on meta, weights diffed."""
    snapshot = snap(str(saved["single"]))
    assert snapshot.kind == "model" and snapshot.model_class == "GPT2LMHeadModel"
    assert {"GPT2Block", "GPT2Attention"} <= {b.type for b in snapshot.blocks}
    assert snapshot.total_params == _unique_params(_gpt2())
    assert snapshot.devices == ("meta",)  # no forward asked: nothing materialized
    diff = snapshot.checkpoint
    assert diff.clean and diff.covered_by_tie == (("lm_head.weight", "transformer.wte.weight"),)
    assert snapshot.source.endswith("config.json")
    assert (
        "--input-shape" in snapshot.forward.note and "example_input()" not in snapshot.forward.note
    )


def test_sharded_folder_and_its_index_are_the_whole_model(saved) -> None:
    shards = sorted(saved["sharded"].glob("model-*-of-*.safetensors"))
    assert len(shards) > 2
    keys: set[str] = set()
    for shard in shards:
        with safe_open(str(shard), framework="pt") as handle:
            keys.update(handle.keys())
    index = saved["sharded"] / "model.safetensors.index.json"
    for target in (saved["sharded"], index):
        checkpoint = read_checkpoint(str(target), values=False)
        assert set(checkpoint.tensors) == keys and len(checkpoint.files) == len(shards)
        snapshot = snap(str(target))  # before: the index was "truncated or corrupt"
        assert snapshot.model_class == "GPT2LMHeadModel"
        assert snapshot.total_params == _unique_params(_gpt2()) and snapshot.checkpoint.clean
        assert f"in {len(shards)} files" in snapshot.checkpoint.notes[0]


def test_one_shard_says_it_is_one_of_m(saved, tmp_path) -> None:
    shards = sorted(saved["sharded"].glob("model-*-of-*.safetensors"))
    second = shards[1]
    alone = snap(str(second))
    assert alone.kind == "checkpoint"
    assert f"shard 2 of {len(shards)}" in alone.forward.note
    assert (
        "open the folder" in alone.forward.note
        and "model.safetensors.index.json" in alone.forward.note
    )
    assert any(f"shard 2 of {len(shards)}" in f.message for f in alone.findings)
    model_file = write_model(
        tmp_path, "m.py",
        f"""
        import transformers
        def build_model():
            return transformers.GPT2LMHeadModel.from_pretrained({str(saved['single'])!r})
        """,
    )  # fmt: skip
    diff = snap(model_file, weights=str(second)).checkpoint
    assert diff.missing and any(f"shard 2 of {len(shards)}" in note for note in diff.notes)


def test_folder_as_weights_loads_every_shard_into_the_model(saved, tmp_path) -> None:
    model_file = write_model(
        tmp_path, "m.py",
        """
        import torch, transformers
        def build_model():
            torch.manual_seed(1)  # other values than the saved model
            return transformers.GPT2LMHeadModel(transformers.GPT2Config(
                n_layer=2, n_embd=64, n_head=2, vocab_size=100, n_positions=32))
        """,
    )  # fmt: skip
    snapshot = snap(model_file, weights=str(saved["sharded"]), backward=False)
    diff = snapshot.checkpoint
    assert diff.clean and diff.loaded == len(_gpt2().state_dict()) - 1  # lm_head by tie
    want = _gpt2().transformer.h[1].mlp.c_fc.weight.mean().item()
    got = snapshot.tensor_by_name["transformer.h.1.mlp.c_fc.weight"].stats.mean
    assert got == pytest.approx(want, abs=1e-6)


def test_folder_with_input_shape_runs_the_forward_on_loaded_weights(saved) -> None:
    snapshot = snap(str(saved["single"]), input_shape=(1, 8), input_dtype="int64", backward=False)
    assert snapshot.forward.ran and "--input-shape 1,8" in snapshot.forward.input_summary
    assert snapshot.devices == ("cpu",) and snapshot.checkpoint.loaded > 0
    assert snapshot.block_by_path["transformer.h.0"].calls == 1
    want = _gpt2().transformer.wte.weight.std().item()
    assert snapshot.tensor_by_name["transformer.wte.weight"].stats.std == pytest.approx(want, 1e-5)


def test_without_transformers_the_key_tree_and_how_to_get_classes(saved) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'transformers' or name.startswith('transformers.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from netscope.engine.api import take_snapshot\n"
        "from netscope.engine.options import LoadOptions\n"
        f"s = take_snapshot(LoadOptions({str(saved['sharded'])!r}))\n"
        "print(s.kind, s.total_params)\n"
        "print(s.forward.note)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    first, note = result.stdout.splitlines()[:2]
    assert first == f"checkpoint {_unique_params(_gpt2())}"
    assert "pip install transformers" in note and "block classes" in note


def test_folder_and_index_errors_name_the_file(saved, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(NetscopeError) as err:
        snap(str(empty))
    assert "folder without a checkpoint" in str(err.value) and "notes.txt" in str(err.value)
    assert "no such checkpoint file" not in str(err.value)
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in saved["sharded"].iterdir():
        if not item.name.startswith("model-00002"):
            (broken / item.name).write_bytes(item.read_bytes())
    with pytest.raises(NetscopeError) as err:
        snap(str(broken))
    assert "model-00002-of-" in str(err.value) and "are not in" in str(err.value)
    bad = tmp_path / "model.safetensors.index.json"
    bad.write_text("{not json")
    with pytest.raises(NetscopeError) as err:
        snap(str(bad))
    assert "not valid JSON" in str(err.value) and "truncated or corrupt" not in str(err.value)


def test_peft_adapter_folder_is_shown_as_an_adapter_with_its_base(tmp_path) -> None:
    """Laid out as peft's save_pretrained writes a LoRA adapter for GPT-2's c_attn."""
    folder = tmp_path / "lora"
    folder.mkdir()
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "gpt2",
        "r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": ["c_attn"],
        "fan_in_fan_out": True, "bias": "none", "inference_mode": True,
    }  # fmt: skip
    (folder / "adapter_config.json").write_text(json.dumps(config))
    tensors = {}
    for i in range(2):
        prefix = f"base_model.model.transformer.h.{i}.attn.c_attn."
        tensors[prefix + "lora_A.weight"] = torch.randn(8, 64)
        tensors[prefix + "lora_B.weight"] = torch.zeros(192, 8)
    save_file(tensors, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    snapshot = snap(str(folder))
    assert snapshot.kind == "checkpoint" and snapshot.model_class == "LORA adapter"
    assert snapshot.total_params == 2 * (8 * 64 + 192 * 8)
    note = snapshot.forward.note
    assert "base model gpt2" in note and "r=8" in note and "PeftModel.from_pretrained" in note
    assert "base_model.model.transformer.h.0.attn.c_attn.lora_A" in snapshot.block_by_path


def test_sparse_llama_shards_are_read_from_headers_only(tmp_path) -> None:
    """A 4-layer Llama-3-70B-width model in sparse shards (13 GB apparent, KBs on disk)."""
    spec = llama_tensors(layers=4)
    total, params = write_sharded(tmp_path / "llama", spec, shards=6)
    used = sum(p.stat().st_blocks * 512 for p in (tmp_path / "llama").iterdir())
    if used > 100 * 2**20:
        pytest.skip("this file system does not keep sparse files sparse")
    checkpoint = read_checkpoint(str(tmp_path / "llama"), values=False)
    assert all(t.device.type == "meta" for t in checkpoint.tensors.values())
    assert checkpoint.tensors["lm_head.weight"].dtype == torch.bfloat16
    snapshot = snap(str(tmp_path / "llama"))  # no config.json: the key tree
    assert snapshot.total_params == params and snapshot.total_bytes == total
    assert all(p.stats is None for p in snapshot.parameters)
    assert "Value statistics skipped" in snapshot.forward.note


def test_safetensors_dtype_torch_lacks_is_named_not_read_as_uint8(tmp_path) -> None:
    """The old hand parser mapped an unknown dtype to uint8 without a word."""
    raw = json.dumps({"w": {"dtype": "F6_E2M3", "shape": [2, 4], "data_offsets": [0, 6]}}).encode()
    raw += b" " * (-len(raw) % 8)
    path = tmp_path / "fp6.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 6)
    with pytest.raises(NetscopeError) as err:
        snap(str(path))
    assert (
        "fp6.safetensors" in str(err.value)
        and "F6_E2M3" in str(err.value)
        and "'w'" in str(err.value)
    )
