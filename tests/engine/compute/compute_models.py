"""Real models for the compute tests (small configs of transformers' classes, no downloads) and a
way to snapshot one in-process with a loss netscope and FlopCounterMode both use."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from netscope.engine.api import snapshot_loaded
from netscope.engine.load.loaded import ExampleInput, LoadedTarget
from netscope.engine.model import Snapshot
from netscope.engine.options import LoadOptions

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import transformers as T

IDS = torch.randint(0, 100, (2, 8), generator=torch.Generator().manual_seed(0))
SMALL = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100}


def gpt2() -> torch.nn.Module:
    return T.GPT2LMHeadModel(
        T.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64)
    )


def bert() -> torch.nn.Module:
    return T.BertForMaskedLM(T.BertConfig(num_hidden_layers=2, **SMALL))


def llama() -> torch.nn.Module:
    return T.LlamaForCausalLM(T.LlamaConfig(num_hidden_layers=2, num_key_value_heads=1, **SMALL))


def mixtral() -> torch.nn.Module:
    config = T.MixtralConfig(
        num_hidden_layers=2, num_key_value_heads=1, num_local_experts=4, num_experts_per_tok=2,
        **SMALL,
    )  # fmt: skip
    config._experts_implementation = "grouped_mm"
    return T.MixtralForCausalLM(config)


def t5() -> torch.nn.Module:
    return T.T5ForConditionalGeneration(
        T.T5Config(num_layers=2, d_model=32, d_ff=64, num_heads=2, d_kv=16, vocab_size=100,
                   decoder_start_token_id=0)
    )  # fmt: skip


def whisper() -> torch.nn.Module:
    return T.WhisperForConditionalGeneration(
        T.WhisperConfig(
            vocab_size=100, num_mel_bins=8, encoder_layers=1, decoder_layers=1, d_model=32,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
            decoder_ffn_dim=64, max_source_positions=16, max_target_positions=16,
            decoder_start_token_id=0, pad_token_id=0, bos_token_id=0, eos_token_id=0,
        )
    )  # fmt: skip


class SmallCNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.ReLU(),
        )  # fmt: skip
        self.head = torch.nn.Linear(16 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class SmallLSTM(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 16, batch_first=True)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0])


def logits_loss(output: Any, _batch: Any = None) -> torch.Tensor:
    logits = output.logits if hasattr(output, "logits") else output
    return logits.float().mean()


MODELS: dict[str, tuple[Callable[[], torch.nn.Module], dict[str, Any]]] = {
    "gpt2": (gpt2, {"input_ids": IDS}),
    "bert": (bert, {"input_ids": IDS}),
    "llama": (llama, {"input_ids": IDS}),
    "mixtral": (mixtral, {"input_ids": IDS}),
    "t5": (t5, {"input_ids": IDS, "decoder_input_ids": IDS}),
    "whisper": (
        whisper,
        {"input_features": torch.randn(1, 8, 32), "decoder_input_ids": torch.zeros(1, 4).long()},
    ),
    "cnn": (SmallCNN, {"x": torch.randn(2, 3, 16, 16)}),
    "lstm": (SmallLSTM, {"x": torch.randn(2, 5, 8)}),
}


def build(name: str, attention: str | None = None) -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS[name][0]()
    if attention is not None:
        model.set_attn_implementation(attention)  # every sub-model's (T5's cross attention)
    return model


def build_on_meta(name: str) -> torch.nn.Module:
    """``build(name)`` moved to meta with its ties kept: ``.to("meta")`` gives each module a new
    Parameter (a meta tensor cannot take a CPU one's place), so a tied head becomes a copy."""
    model = build(name).to("meta")
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    return model


def snapshot(model: torch.nn.Module, kwargs: dict[str, Any], **options: Any) -> Snapshot:
    """netscope's snapshot of ``model(**kwargs)`` with ``logits_loss`` as the loss."""
    loaded = LoadedTarget(
        LoadOptions("model.py", **options),
        "model.py",
        model,
        example_input=ExampleInput(kwargs=dict(kwargs)),
        loss_fn=logits_loss,
    )
    return snapshot_loaded(loaded)


def torch_counts(model: torch.nn.Module, kwargs: dict[str, Any], backward: bool) -> dict[str, int]:
    """FlopCounterMode's FLOPs per module path ("" the root), as netscope names blocks."""
    model.eval()
    with FlopCounterMode(display=False) as mode:
        out = model(**kwargs)
        if backward:
            logits_loss(out).backward()
    model.zero_grad(set_to_none=True)
    root = type(model).__name__
    counts = {"Global": sum(mode.get_flop_counts()["Global"].values())}
    for name, per_op in mode.get_flop_counts().items():
        if name == root or name.startswith(root + "."):
            counts[name[len(root) + 1 :]] = sum(per_op.values())
    return counts
