"""Two micro-batches a step, and a block the forward calls twice (a shared layer)."""

import torch
from torch import nn


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.shared = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.shared(torch.relu(self.shared(self.embed(x))))
        return {"logits": self.head(hidden), "hidden": hidden}


torch.manual_seed(0)
model = Shared()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _step in range(12):
    for _micro in range(2):
        out = model(torch.randn(6, 8))
        (out["logits"].pow(2).mean() / 2).backward()
    optimizer.step()
    optimizer.zero_grad()
print("done")
