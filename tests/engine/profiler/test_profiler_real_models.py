"""Sync precision on real models: every real sync at its line and count, no false alarm.

Run on the stand-in GPU (no GPU here): what each step would do on CUDA. The expected lines in
transformers' own files are found by their code, so the test holds across transformers versions.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from prof_helpers import marked_location

from netscope.engine.errors import display_path
from netscope.engine.model import SyncFinding
from netscope.engine.profiler.detect import detect_call

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")
T = transformers

IDS = torch.randint(0, 100, (2, 8), generator=torch.Generator().manual_seed(0))


def library_line(module: Any, code: str) -> str:
    """``file.py:LINE`` of the one line of ``module``'s source that contains ``code``."""
    path = inspect.getsourcefile(module)
    assert path is not None
    hits = [n for n, line in enumerate(Path(path).read_text().splitlines(), 1) if code in line]
    assert len(hits) == 1, (code, hits)
    return f"{display_path(path)}:{hits[0]}"


def gpt2(pad_token_id: int | None = None) -> torch.nn.Module:
    config = T.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64)
    config.pad_token_id = pad_token_id
    return T.GPT2LMHeadModel(config)


def llama() -> torch.nn.Module:
    return T.LlamaForCausalLM(
        T.LlamaConfig(
            num_hidden_layers=2,
            hidden_size=32,
            num_attention_heads=2,
            num_key_value_heads=1,
            intermediate_size=64,
            vocab_size=100,
        )
    )


def mixtral(experts: str | None = None) -> torch.nn.Module:
    config = T.MixtralConfig(
        num_hidden_layers=2,
        hidden_size=32,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=64,
        num_local_experts=4,
        num_experts_per_tok=2,
        vocab_size=100,
    )
    if experts is not None:
        config._experts_implementation = experts
    return T.MixtralForCausalLM(config)


FORWARDS: dict[str, tuple[Callable[[], torch.nn.Module], Callable[[Any, Any], Any]]] = {
    "gpt2": (gpt2, lambda m, ids: m(input_ids=ids)),
    "bert": (
        lambda: T.BertModel(
            T.BertConfig(
                num_hidden_layers=2,
                hidden_size=32,
                num_attention_heads=2,
                intermediate_size=64,
                vocab_size=100,
            )
        ),
        lambda m, ids: m(input_ids=ids),
    ),
    "llama": (llama, lambda m, ids: m(input_ids=ids)),
    "t5": (
        lambda: T.T5ForConditionalGeneration(
            T.T5Config(
                num_layers=2,
                d_model=32,
                d_ff=64,
                num_heads=2,
                d_kv=16,
                vocab_size=100,
                decoder_start_token_id=0,
            )
        ),
        lambda m, ids: m(input_ids=ids, decoder_input_ids=ids),
    ),
    "qwen2_moe": (
        lambda: T.Qwen2MoeForCausalLM(
            T.Qwen2MoeConfig(
                num_hidden_layers=2,
                hidden_size=32,
                num_attention_heads=2,
                num_key_value_heads=1,
                intermediate_size=64,
                moe_intermediate_size=16,
                shared_expert_intermediate_size=16,
                num_experts=4,
                num_experts_per_tok=2,
                vocab_size=100,
            )
        ),
        lambda m, ids: m(input_ids=ids),
    ),
    "mixtral": (mixtral, lambda m, ids: m(input_ids=ids)),
}


def run(model: torch.nn.Module, call: Callable[[Any, Any], Any], batch: Any = IDS):
    torch.manual_seed(0)
    with torch.no_grad():
        return detect_call(model.eval(), call, batch)


def counts(syncs: tuple[SyncFinding, ...]) -> dict[str, int]:
    """Occurrences per step by op and line, summed over the blocks that share the line."""
    found: dict[str, int] = {}
    for sync in syncs:
        key = f"{sync.op} @ {sync.location}"
        found[key] = found.get(key, 0) + sync.count
    return found


@pytest.mark.parametrize("name", list(FORWARDS))
def test_plain_forward_of_a_real_model_has_no_sync_and_no_copy(name: str) -> None:
    make, call = FORWARDS[name]
    assert run(make(), call) == ((), ())


def test_whisper_forward_has_no_sync() -> None:
    config = T.WhisperConfig(
        vocab_size=100,
        num_mel_bins=8,
        encoder_layers=1,
        decoder_layers=1,
        d_model=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=16,
        max_target_positions=16,
        decoder_start_token_id=0,
        pad_token_id=0,
        bos_token_id=0,
        eos_token_id=0,
    )
    batch = (torch.randn(1, 8, 32), torch.zeros(1, 4, dtype=torch.long))

    def call(m: Any, b: Any) -> Any:
        return m(input_features=b[0], decoder_input_ids=b[1])

    assert run(T.WhisperForConditionalGeneration(config), call, batch) == ((), ())


def test_a_padding_mask_check_is_a_real_sync_found_once() -> None:
    import transformers.masking_utils as masking

    _, syncs = run(gpt2(), lambda m, ids: m(input_ids=ids, attention_mask=torch.ones_like(ids)))
    expected = library_line(masking, "fast_all(padding_mask)):")
    assert counts(syncs) == {f"bool(tensor) / if tensor: @ {expected}": 1}


def test_generate_syncs_once_per_new_token_at_the_stopping_check() -> None:
    import transformers.generation.utils as generation

    new_tokens = 3
    _, syncs = run(
        gpt2(), lambda m, ids: m.generate(ids, max_new_tokens=new_tokens, do_sample=False)
    )
    stop = library_line(generation, "return bool(unfinished_sequences.max() == 0)")
    assert counts(syncs)[f"bool(tensor) / if tensor: @ {stop}"] == new_tokens
    assert all(s.block in ("(step)", "transformer") for s in syncs)


def test_eager_expert_routing_syncs_per_layer_and_grouped_routing_does_not() -> None:
    import transformers.models.mixtral.modeling_mixtral as modeling

    _, syncs = run(mixtral("eager"), lambda m, ids: m(input_ids=ids))
    assert {s.block for s in syncs} == {f"model.layers.{i}.mlp.experts" for i in (0, 1)}
    per_expert = 2 * 4  # two layers, each hit all 4 experts (16 tokens x top-2)
    index = "x[tensor] with a 0-dim tensor"
    assert counts(syncs) == {
        f"nonzero @ {library_line(modeling, ', 0).nonzero()')}": 2,  # once per layer
        f"bool(tensor) / if tensor: @ {library_line(modeling, '== self.num_experts:')}": per_expert,
        f"torch.where(cond) @ {library_line(modeling, '= torch.where(expert_mask')}": per_expert,
        f"{index} @ {library_line(modeling, '= torch.where(expert_mask')}": per_expert,
        f"{index} @ {library_line(modeling, 'self.gate_up_proj[expert_idx])')}": per_expert,
        f"{index} @ {library_line(modeling, 'self.down_proj[expert_idx])')}": per_expert,
    }
    assert run(mixtral("grouped_mm"), lambda m, ids: m(input_ids=ids)) == ((), ())


def train_step(logged: bool) -> Callable[[Any, Any], Any]:
    def step(model: Any, ids: Any) -> Any:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for _ in range(2):  # the second AdamW step reads its (host) step counters
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if logged:
                print(f"loss {loss.item():.3f}")  # MARK:log_loss
        return loss

    return step


def test_adamw_training_step_has_no_sync_and_a_logged_loss_is_one() -> None:
    model = llama().train()
    assert detect_call(model, train_step(logged=False), IDS) == ((), ())
    _, syncs = detect_call(llama().train(), train_step(logged=True), IDS)
    assert counts(syncs) == {f".item() @ {marked_location(train_step, 'log_loss')}": 2}


class Routing(torch.nn.Module):
    """Idioms users asked about, each marked with what CUDA would do."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        y = self.proj(x)
        y = y.to(x.device) + y.to(device=x.device, dtype=torch.float16).float()  # no-op moves
        y = y + y.to(x).sum()
        positions = torch.arange(x.shape[-1]).to(x.device)  # MARK:h2d
        hot = torch.nn.functional.one_hot(labels, num_classes=4)  # CUDA skips the range check
        counter = torch.tensor(3.0)
        steps = int(counter.item())  # a host tensor: reading it waits for nothing
        guessed = torch.nn.functional.one_hot(labels)  # MARK:one_hot_guess
        return y * steps + positions + hot.sum() + guessed.sum()


def test_same_device_moves_host_reads_and_one_hot_with_classes_are_not_syncs() -> None:
    model = Routing()
    copies, syncs = detect_call(
        model, lambda m, b: m(*b), (torch.randn(2, 4), torch.tensor([1, 3]))
    )
    assert counts(syncs) == {
        f"value read inside a torch call @ {marked_location(Routing, 'one_hot_guess')}": 1
    }
    assert [(c.direction, c.bytes, c.location) for c in copies] == [
        ("H2D", 4 * 8, marked_location(Routing, "h2d"))
    ]
