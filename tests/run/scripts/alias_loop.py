"""One Linear under two names (``self.first`` and ``self.again``), called once through each."""

import torch
from torch import nn


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 8)
        self.again = self.first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.again(torch.relu(self.first(x)))


torch.manual_seed(0)
model = Twice()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _step in range(8):
    model(torch.randn(4, 8)).pow(2).mean().backward()
    optimizer.step()
    optimizer.zero_grad()
print("done")
