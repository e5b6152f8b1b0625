"""Run as a script to save the MLP's state_dict to mlp.params (netscope opens both)."""

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.output = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(F.relu(self.hidden(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return MLP()


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(2, 20)


if __name__ == "__main__":
    torch.save(build_model().state_dict(), "mlp.params")
    print(
        "saved mlp.params: try `netscope mlp.params` or `netscope save_mlp.py --weights mlp.params`"
    )
