"""One peak per report: when a snapshot has both the measured peak of its step (CPU, CUDA) and the
meta replay of the same step (what ``--fit`` rests on), ``memory`` carries both, with why they
differ by design when they do differ.
"""

from __future__ import annotations

from dataclasses import replace

from torch import nn

from netscope.engine.model import Memory

_RECURRENT = (nn.RNNBase,)
_CONVOLUTION = (nn.modules.conv._ConvNd,)


def replay_difference(model: nn.Module, memory: Memory, train: bool) -> str:
    """Why the measured peak and the meta replay of the same step differ by design."""
    causes = []
    on_cpu = memory.device == "cpu"
    if train and memory.optimizer_bytes is not None and on_cpu:
        causes.append(
            "optimizer.step(): the CPU runs torch's per-parameter update, the replay the foreach "
            "update CUDA runs (its temporaries for all parameters at once)"
        )
    modules = list(model.modules())
    if on_cpu and any(isinstance(m, _RECURRENT) for m in modules):
        causes.append(
            "recurrent layers: the CPU's fused kernel (mkldnn_rnn_layer) keeps one workspace per "
            "layer, the replay the math path's per-step tensors (CUDA's cuDNN has its own)"
        )
    if not on_cpu:
        causes.append(
            "the measured CUDA peak (max_memory_allocated) includes kernel workspaces (cuBLAS, "
            "cuDNN) and the allocator's rounding, which the replay does not see"
        )
    elif any(isinstance(m, _CONVOLUTION) for m in modules):
        causes.append(
            "convolutions: oneDNN's workspaces inside the CPU kernels are seen by neither"
        )
    return "; ".join(causes)


def with_replay(memory: Memory, model: nn.Module, replay_peak: int, train: bool) -> Memory:
    """``memory`` of a measured step with the meta replay's peak of the same step beside it;
    why they differ only where they do (equal peaks have nothing to explain, whatever the
    causes that could have made them differ)."""
    if memory.how != "measured":
        return memory  # on meta the peak is the replay
    equal = memory.peak_bytes == replay_peak
    why = "" if equal else replay_difference(model, memory, train)
    return replace(memory, replay_peak_bytes=replay_peak, replay_differs=why)
