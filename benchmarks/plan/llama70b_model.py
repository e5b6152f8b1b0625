"""transformers' Llama at the Llama-3-70B shape, built on meta (no memory for its weights), for
the plan's 70B verdicts in docs/benchmarks.md (its tensor-parallel plan is transformers' own
``base_model_tp_plan``)."""

import torch
import transformers


def build_model():
    config = transformers.LlamaConfig(
        hidden_size=8192,
        intermediate_size=28672,
        num_hidden_layers=80,
        num_attention_heads=64,
        num_key_value_heads=8,
        vocab_size=128256,
        max_position_embeddings=8192,
        torch_dtype="bfloat16",
    )
    with torch.device("meta"):
        return transformers.LlamaForCausalLM(config)


def example_input():
    return {"input_ids": torch.zeros(1, 4096, dtype=torch.long)}
