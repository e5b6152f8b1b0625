"""netscope from Python: inspect a model you already hold, read its figures, write reports.

    python examples/inspect_model.py [OUTPUT_FOLDER]

Builds a small ResNet-style CNN, inspects an inference step and a training step with AdamW
(will it fit a 24 GiB GPU?), prints the summaries and writes JSON, Markdown and HTML reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

import netscope


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


def small_resnet(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        Residual(32), Residual(32),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes),
    )  # fmt: skip


def main(folder: Path) -> None:
    torch.manual_seed(0)
    model = small_resnet()
    images = torch.randn(8, 3, 32, 32)

    report = netscope.inspect(model, images)  # the model is left exactly as it was
    print(report)
    assert report.compute is not None
    print(f"\nforward FLOPs: {report.compute.forward_flops:,}")
    first = report.block("2")  # the first Residual block
    print(f"block 2 ({first.type}): {first.total_params:,} parameters")

    training = netscope.inspect(model, images, train=True, optimizer="adamw", fit="24GiB")
    assert training.memory is not None and training.fit is not None
    print(f"training step peak: {training.memory.peak_bytes:,} bytes")
    print(f"fits 24 GiB: {training.fit.fits}")

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("inference.json", "inference.md", "inference.html"):
        print("wrote", report.save(str(folder / name)))
    print("wrote", training.save(str(folder / "training.json")))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "netscope-reports"))
