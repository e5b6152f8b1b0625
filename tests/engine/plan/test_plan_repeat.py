"""A stack of identical blocks replayed short and extrapolated gives exactly the figures of the
whole replay, and the whole model is replayed wherever that cannot be shown."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import transformers
from torch import nn

from netscope.engine.plan.repeat import identical_run, replay_repeated
from netscope.engine.plan.replay import StepAsPlanned, StepRequest, replay_step
from netscope.engine.plan.units import repeated_blocks


class Block(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.up, self.down = nn.Linear(32, width * 4), nn.Linear(width * 4, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(x)))


class Stack(nn.Module):
    def __init__(self, widths: list[int], by_count: bool = False) -> None:
        super().__init__()
        self.embed, self.head = nn.Linear(8, 32), nn.Linear(32, 4)
        self.blocks = nn.ModuleList(Block(w) for w in widths)
        self.by_count = by_count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        if self.by_count:  # a forward that needs all ten blocks
            for i in range(10):
                x = self.blocks[i](x)
        else:
            for block in self.blocks:
                x = block(x)
        return self.head(x)


def request(model: nn.Module, batch: object, **layout: object) -> StepRequest:
    args = (batch,) if isinstance(batch, torch.Tensor) else ()
    kwargs = {} if isinstance(batch, torch.Tensor) else dict(batch)  # type: ignore[call-overload]

    def loss(output: object, _batch: object) -> torch.Tensor:
        logits = getattr(output, "logits", output)
        return logits.float().mean()  # type: ignore[union-attr]

    return replace(StepRequest(model, args, kwargs, batch, loss, True, None), **layout)  # type: ignore[arg-type]


def both(req: StepRequest) -> tuple[StepAsPlanned, StepAsPlanned, list[bool]]:
    """(the whole replay, the fast one, which replays the fast one ran: short or whole)."""
    short: list[bool] = []

    def counted(r: StepRequest) -> StepAsPlanned:
        short.append(r.keep_blocks is not None)
        return replay_step(r)

    return replay_step(req), replay_repeated(req, counted), short


def blocks_of(model: nn.Module) -> tuple[str, ...]:
    return tuple(repeated_blocks(model))


@pytest.mark.parametrize(
    "layout",
    [
        {"world": 4, "fsdp": True, "precision": "fp32"},
        {"world": 3, "fsdp": True, "precision": "bf16-mixed", "checkpoint": "all"},
        {"precision": "fp32"},  # one device (ddp and zero are arithmetic on this replay)
        {"precision": "bf16-mixed", "checkpoint": "all", "train": False},
    ],
)
def test_identical_blocks_extrapolate_to_the_whole_replay_exactly(layout: dict) -> None:
    model = Stack([32] * 10)
    units = blocks_of(model)
    if layout.pop("checkpoint", None):
        layout["checkpoint"] = units
    if layout.get("fsdp"):
        layout["units"] = units
    whole, fast, short = both(request(model, torch.randn(16, 8), **layout))
    assert short == [True, True, True]  # three short replays, no whole one
    assert fast == whole


def test_a_transformers_llama_extrapolates_exactly_under_fsdp() -> None:
    config = transformers.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=9, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100,
    )  # fmt: skip
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    units = blocks_of(model)
    assert identical_run(model, units, units) is not None
    ids = {"input_ids": torch.zeros(2, 16, dtype=torch.long)}
    layout = {"world": 4, "fsdp": True, "units": units, "checkpoint": units}
    whole, fast, short = both(request(model, ids, precision="bf16-mixed", **layout))
    assert short == [True, True, True] and fast == whole


def test_blocks_that_differ_are_replayed_whole() -> None:
    model = Stack([32] * 9 + [48])  # the last block is wider: no run ends the list
    assert identical_run(model, (), ()) is None
    whole, fast, short = both(request(model, torch.randn(16, 8)))
    assert short == [False] and fast == whole


def test_blocks_checkpointed_unevenly_are_replayed_whole() -> None:
    model = Stack([32] * 10)
    half = blocks_of(model)[:5]
    assert identical_run(model, (), half) is None
    whole, fast, short = both(request(model, torch.randn(16, 8), checkpoint=half))
    assert short == [False] and fast == whole


def test_a_forward_that_needs_every_block_is_replayed_whole() -> None:
    model = Stack([32] * 10, by_count=True)
    whole, fast, short = both(request(model, torch.randn(16, 8)))
    assert short == [True, False] and fast == whole  # the first short replay fails: whole
