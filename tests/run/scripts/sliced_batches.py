"""Batches sliced from one big token tensor made before the loop (as a memory-mapped corpus is
read): each batch is a view of that tensor's storage, 12.8 MB, while the batch itself is 4 KB."""

import argparse

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=30)
options = parser.parse_args()

torch.manual_seed(0)
tokens = torch.randint(0, 100, (1_600_000,))  # int64: 12.8 MB
BATCH = 512  # int64 indices: 4 KB a batch


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.head = nn.Linear(32, 100)

    def forward(self, ids):
        return self.head(self.embed(ids))


model = Classifier()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(options.steps):
    ids = tokens[step * BATCH : (step + 1) * BATCH]
    targets = tokens[(step + 1) * BATCH : (step + 2) * BATCH]
    loss = nn.functional.cross_entropy(model(ids), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        print(f"step {step + 1} loss {loss.item():.10f}", flush=True)
print("done", flush=True)
