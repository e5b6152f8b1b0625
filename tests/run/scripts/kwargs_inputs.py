"""A model called only with keyword arguments (as Hugging Face models are), the mask built on the
host side of the loop before the call: on CUDA the batch and its mask live on the device, so the
forward's `if mask.all():` waits for the GPU."""

import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, input_ids, attention_mask):
        if attention_mask.all():  # a real sync: the mask is on the device
            hidden = self.embed(input_ids)
        else:
            hidden = self.embed(input_ids) * attention_mask[..., None]
        return self.head(hidden)


model = Tagger().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _step in range(8):
    ids = torch.randint(0, 50, (4, 6)).to(device)
    mask = torch.ones_like(ids)
    loss = model(input_ids=ids, attention_mask=mask).float().pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
print("done")
