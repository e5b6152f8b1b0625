"""Which reads of a CPU run would sync on CUDA: the taint rules of netscope/engine/run/loop_detect.

Each case runs a few lines under the sampled-step interceptors, in this process, and checks the
exact syncs (op, line) reported: the device-side reads are there and the host reads are not.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F
from torch import nn

from netscope.engine.run.loop_detect import RootTracker, SampledStep, Taint


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.gate = Gate()

    def forward(self, x):
        return self.gate(self.fc(x))


class Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 1e9:  # a sync inside a block: reported at this block
            return x * 0
        return x


def _here() -> int:
    return sys._getframe(1).f_lineno


def _watch(model: nn.Module, body):
    tracker = RootTracker()
    tracker.add_root(model, "")
    taint = Taint()
    for tensor in (*model.parameters(), *model.buffers()):
        taint.add(tensor)
    step = SampledStep(tracker, taint)
    step.start()
    try:
        body(taint)
    finally:
        syncs, copies = step.stop()
    return syncs, copies


def _lines(events) -> list[tuple[str, int]]:
    return [(e.op, int(e.location.rsplit(":", 1)[1])) for e in events]


def test_device_reads_sync_host_reads_do_not():
    model = Net()
    device = "cpu"  # a CUDA script's `device`: .to(device) would move to the GPU there
    lines: dict[str, int] = {}

    def body(taint):
        x = torch.randn(2, 4)
        taint.add(x)  # passed into the root's forward
        out = model(x)
        lines["item"] = _here() + 1
        out.sum().item()
        host = torch.zeros(())
        host.item()  # built without a device: host
        torch.arange(3).tolist()  # host
        out.to(device)  # not a sync: `device` is the GPU on a CUDA machine
        lines["float"] = _here() + 1
        float(out.detach().mean())
        lines["cpu"] = _here() + 1
        moved = out.cpu()
        (moved > 0).float().mean().item()  # the host copy: not a sync
        lines["to_cpu"] = _here() + 1
        out.to("cpu")
        scale = torch.tensor(2.0)  # a 0-dim host scalar may meet device tensors on CUDA
        (out * scale).sum()
        scale.item()  # still host
        y = torch.tensor([0, 2])
        F.cross_entropy(out, y)  # on CUDA the labels must be on the device too
        lines["labels"] = _here() + 1
        y.sum().item()
        buffer = torch.empty(2, 3)  # a host buffer a device tensor is copied into
        buffer.copy_(out.detach())
        buffer.sum().item()  # host: not a sync

    syncs, copies = _watch(model, body)
    gate_line = Gate.forward.__code__.co_firstlineno + 1
    assert _lines(syncs) == [
        ("bool(tensor) / if tensor:", gate_line),
        (".item()", lines["item"]),
        ("float(tensor)", lines["float"]),
        (".cpu()", lines["cpu"]),
        ('.to("cpu")', lines["to_cpu"]),
        (".item()", lines["labels"]),
    ]
    assert syncs[0].block == "gate" and syncs[1].block == "(step)"
    assert all(e.stall_s is None for e in syncs)  # a CPU run: "would sync", no stall
    assert [(c.direction, int(c.location.rsplit(":", 1)[1])) for c in copies] == [
        ("D2H", lines["cpu"]),
        ("D2H", lines["to_cpu"]),
    ]


def test_copies_are_recorded_by_the_profilers_rules():
    """An empty device tensor's `.cpu()` still syncs but moves no data: no copy, as the model-file
    profiler records it (engine/profiler/events.py); a D2H copy's source is device memory, so
    its pinning is not applicable (None), as on a GPU."""
    model = Net()
    lines: dict[str, int] = {}

    def body(taint):
        x = torch.randn(2, 4)
        taint.add(x)
        out = model(x)
        lines["empty"] = _here() + 1
        out[:0].cpu()
        lines["full"] = _here() + 1
        out.cpu()

    syncs, copies = _watch(model, body)
    assert _lines(syncs)[1:] == [(".cpu()", lines["empty"]), (".cpu()", lines["full"])]
    assert [(c.direction, c.bytes, c.pinned) for c in copies] == [("D2H", 2 * 3 * 4, None)]
    assert copies[0].location.endswith(f":{lines['full']}")


def test_an_optimizers_host_step_counter_is_not_a_sync():
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def body(taint):
        for _ in range(2):
            loss = model(torch.randn(2, 4)).pow(2).mean()
            loss.backward()
            optimizer.step()  # Adam reads its CPU `step` tensor with .item(): host
            optimizer.zero_grad()

    syncs, _ = _watch(model, body)
    assert [e.op for e in syncs] == ["bool(tensor) / if tensor:"] * 2  # only the Gate's branch


def test_a_gpu_run_decides_by_the_tensors_own_device():
    model = Net()
    step = SampledStep(RootTracker(), None)  # no taint: a tensor's device says where it is
    step.start()
    try:
        out = model(torch.randn(2, 4))
        out.sum().item()
    finally:
        syncs, copies = step.stop()
    assert syncs == [] and copies == []  # everything is on the host here
