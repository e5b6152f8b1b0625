"""nn.LSTM / nn.GRU on the stand-in GPU run the fused cells a GPU runs (no CPU kernel): profiling
a model holding one failed with "NotImplementedError: aten::_thnn_fused_lstm_cell". On the
stand-in the cells are computed on the host; outputs and gradients equal the CPU's own LSTM/GRU."""

from __future__ import annotations

import copy

import torch
from torch import nn

from netscope.engine.load.loaded import ExampleInput
from netscope.engine.profiler import standin
from netscope.engine.profiler.detect import detect_call
from netscope.engine.profiler.step import prepared_step


class Tagger(nn.Module):
    def __init__(self, bias: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, bias=bias)
        self.gru = nn.GRU(16, 12, batch_first=True, bias=bias)
        self.head = nn.Linear(12, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(tokens))
        out, hidden = self.gru(out)
        return self.head(out).sum() + hidden.sum()


def grads_of(model: nn.Module, tokens: torch.Tensor, device: torch.device | None) -> dict:
    """The step's loss and each parameter's gradient, on the CPU or the stand-in GPU."""

    def step(module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        loss = module(batch)
        loss.backward()
        return loss

    if device is None:
        loss = step(model, tokens)
        return {"loss": loss.detach(), **{n: p.grad for n, p in model.named_parameters()}}
    with prepared_step(model, ExampleInput(args=(tokens,)), device, step_fn=step) as prepared:
        loss = prepared.run()
        found = {n: p.grad.cpu() for n, p in prepared.model.named_parameters()}
        return {"loss": loss.detach().cpu(), **found}


def test_lstm_and_gru_on_the_standin_equal_the_cpus_own() -> None:
    for bias in (True, False):
        torch.manual_seed(0)
        model = Tagger(bias)
        tokens = torch.randint(0, 50, (3, 7))
        expected = grads_of(copy.deepcopy(model), tokens, None)
        found = grads_of(model, tokens, standin.ensure_backend())
        assert expected.keys() == found.keys()
        for name, value in expected.items():
            torch.testing.assert_close(found[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_the_copy_and_sync_search_runs_on_a_recurrent_model() -> None:
    torch.manual_seed(0)
    copies, syncs = detect_call(Tagger(), lambda m, x: m(x).item(), torch.randint(0, 50, (2, 5)))
    assert [s.op for s in syncs] == [".item()"] and copies == ()
