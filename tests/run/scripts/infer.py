"""An inference-only loop: no optimizer; predictions brought to the host with .cpu() per batch."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)).eval()
batches = [torch.randn(8, 32) for _ in range(12)]
labels = torch.randint(0, 10, (96,))
preds = []
with torch.no_grad():
    for x in batches:
        out = model(x)
        preds.append(out.argmax(1).cpu())
merged = torch.cat(preds)
accuracy = (merged == labels).float().mean().item()  # host tensors: never a sync
print(f"accuracy {accuracy:.3f}")
