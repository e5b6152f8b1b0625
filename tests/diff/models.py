"""Real models for the diff tests, as model files (the CLI's targets) and in-process reports
(the engine's own snapshot through the JSON report's dict, as `netscope report` writes it)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from netscope.engine.api import take_snapshot
from netscope.engine.options import LoadOptions
from netscope.report.serialize import report_dict

GPT2 = """
import torch
from transformers import GPT2Config, GPT2LMHeadModel

def build_model():
    torch.manual_seed(0)
    config = GPT2Config(n_layer={layers}, n_embd={width}, n_head=2, vocab_size=64,
                        n_positions=16, tie_word_embeddings={tied})
    return GPT2LMHeadModel(config)

def example_input():
    return {{"input_ids": torch.randint(0, 64, (2, 8))}}
"""

CNN = """
import time
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        {trunk}
        self.head = nn.Linear({head_in}, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu({call}(x))
        x = x.mean(dim=(2, 3))
        {extra}
        return self.head(x)

def build_model():
    torch.manual_seed(0)
    return Net()

def example_input():
    return torch.randn(2, 3, 16, 16)
"""


def write(folder: Path, name: str, source: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return str(path)


def gpt2_file(folder: Path, name: str, layers: int = 2, width: int = 32, tied: bool = True) -> str:
    return write(folder, name, GPT2.format(layers=layers, width=width, tied=tied))


def cnn_file(
    folder: Path, name: str, *, moved: bool = False, wider: bool = False, extra: str = ""
) -> str:
    """The CNN; ``moved``: conv2 lives in ``trunk`` (a renamed path); ``wider``: 16 channels."""
    out = 16 if wider else 8
    conv = f"nn.Conv2d(8, {out}, 3, padding=1)"
    trunk = f"self.trunk = nn.Sequential({conv})" if moved else f"self.conv2 = {conv}"
    call = "self.trunk" if moved else "self.conv2"
    return write(folder, name, CNN.format(trunk=trunk, call=call, head_in=out,
                                          extra=extra or "pass"))  # fmt: skip


def report_of(target: str, **options: Any) -> dict[str, Any]:
    """The JSON report of ``target`` (``netscope report``'s dict, no profile), round-tripped
    through JSON text as a file would be."""
    snapshot = take_snapshot(LoadOptions(target, **options))
    return json.loads(json.dumps(report_dict(snapshot)))


def save_report(target: str, path: Path, **options: Any) -> str:
    path.write_text(json.dumps(report_of(target, **options)))
    return str(path)
