"""Model files for the plan tests, written where a test wants them."""

from __future__ import annotations

from pathlib import Path

from netscope.engine.load.target import load_target
from netscope.engine.options import LoadOptions

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "benchmarks" / "plan"  # the models checked against real FSDP2 runs

BLOCKS = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Linear(64, 256)
        self.down = nn.Linear(256, 64)

    def forward(self, x):
        return x + self.down(torch.relu(self.up(x)))


def build_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), *[Block() for _ in range(4)], nn.Linear(64, 4))


def example_input():
    return torch.randn(32, 16)
"""


def write(folder: Path, text: str = BLOCKS, name: str = "blocks.py") -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def loaded(target: str, **options: object):  # type: ignore[no-untyped-def]
    return load_target(LoadOptions(target, **options))  # type: ignore[arg-type]


def free_port() -> str:
    """A TCP port no one listens on now, for a torchrun of a test (a fixed one can clash with
    another run on the same machine)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])
