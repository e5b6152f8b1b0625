"""Sparse safetensors files with real headers: a 141 GB sharded checkpoint in a few KB of disk.

Each shard is a real safetensors file (8-byte length, JSON header padded to 8 bytes, contiguous
data offsets), extended with ``truncate`` to its full size, so readers that check the header
against the file size accept it while the data stays a hole that takes no disk. Used by the
benchmark and the tests; never committed.

Run: python benchmarks/sparse_checkpoint.py FOLDER  (writes the Llama-3-70B-sized folder)
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from pathlib import Path

ITEMSIZE = {"F32": 4, "BF16": 2, "F16": 2, "I64": 8, "U8": 1}


def write_sparse_safetensors(
    path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]], metadata: dict[str, str]
) -> int:
    """Write ``name -> (dtype code, shape)`` as a safetensors file whose data is a hole."""
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * ITEMSIZE[dtype]
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        handle.truncate(8 + len(raw) + offset)
    return offset


def llama_tensors(
    layers: int = 80,
    hidden: int = 8192,
    intermediate: int = 28672,
    kv_dim: int = 1024,
    vocab: int = 128256,
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """LlamaForCausalLM's state_dict names and shapes (Llama-3-70B by default), in bf16."""
    out = {"model.embed_tokens.weight": ("BF16", (vocab, hidden))}
    for i in range(layers):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = ("BF16", (hidden,))
        out[p + "self_attn.q_proj.weight"] = ("BF16", (hidden, hidden))
        out[p + "self_attn.k_proj.weight"] = ("BF16", (kv_dim, hidden))
        out[p + "self_attn.v_proj.weight"] = ("BF16", (kv_dim, hidden))
        out[p + "self_attn.o_proj.weight"] = ("BF16", (hidden, hidden))
        out[p + "post_attention_layernorm.weight"] = ("BF16", (hidden,))
        out[p + "mlp.gate_proj.weight"] = ("BF16", (intermediate, hidden))
        out[p + "mlp.up_proj.weight"] = ("BF16", (intermediate, hidden))
        out[p + "mlp.down_proj.weight"] = ("BF16", (hidden, intermediate))
    out["model.norm.weight"] = ("BF16", (hidden,))
    out["lm_head.weight"] = ("BF16", (vocab, hidden))
    return out


def write_sharded(
    folder: Path, tensors: dict[str, tuple[str, tuple[int, ...]]], shards: int
) -> tuple[int, int]:
    """Split ``tensors`` into ``shards`` sparse files plus model.safetensors.index.json, the
    layout save_pretrained writes. Returns (bytes of tensor data, parameters)."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {n: math.prod(s) * ITEMSIZE[d] for n, (d, s) in tensors.items()}
    total = sum(sizes.values())
    per_shard = total / shards
    groups: list[dict[str, tuple[str, tuple[int, ...]]]] = [{}]
    filled = 0
    for name, spec in tensors.items():
        if filled >= per_shard * len(groups) and len(groups) < shards:
            groups.append({})
        groups[-1][name] = spec
        filled += sizes[name]
    weight_map = {}
    for i, group in enumerate(groups, start=1):
        shard = f"model-{i:05d}-of-{len(groups):05d}.safetensors"
        write_sparse_safetensors(folder / shard, group, {"format": "pt"})
        weight_map.update({name: shard for name in group})
    params = sum(math.prod(s) for _, s in tensors.values())
    index = {
        "metadata": {"total_size": total, "total_parameters": params},
        "weight_map": weight_map,
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return total, params


LLAMA3_70B_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8192,
    "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": 128001,
}  # fmt: skip


def write_llama3_70b(folder: Path, with_config: bool = False) -> tuple[int, int]:
    """28 sparse shards of Llama-3-70B's real tensor names and shapes (141 GB apparent size)."""
    total, params = write_sharded(folder, llama_tensors(), shards=28)
    if with_config:
        (folder / "config.json").write_text(json.dumps(LLAMA3_70B_CONFIG, indent=2))
    return total, params


if __name__ == "__main__":
    size, count = write_llama3_70b(Path(sys.argv[1]), with_config="--config" in sys.argv)
    used = sum(os.stat(p).st_blocks * 512 for p in Path(sys.argv[1]).iterdir())
    print(
        f"{count / 1e9:.2f}B parameters, {size / 1e9:.1f} GB apparent, {used / 1e6:.1f} MB on disk"
    )
