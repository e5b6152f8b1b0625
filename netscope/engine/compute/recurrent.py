"""FLOPs of a recurrent layer (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``), counted at its
``torch._VF.lstm/gru/rnn_tanh/rnn_relu`` call as the matrix products it stands for.

The CPU runs one fused kernel per layer and direction (``mkldnn_rnn_layer``), CUDA another
(``_cudnn_rnn``); neither has a formula in torch's FlopCounterMode, while meta runs the math path
(a matmul of the whole sequence by ``w_ih``, then one by ``w_hh`` per step). Counting the call
gives the math path's figures on every device: forward ``2 x rows x gates·H x (in + P)`` (plus
``2 x rows x H x P`` for an LSTM's projection), and a backward of the products' gradients that
are needed: weights that require grad, the layer's input when it requires grad, the hidden state
at every step but the first (whose state ``h0`` needs none unless it requires grad).
"""

from __future__ import annotations

from typing import Any

import torch

_VF = torch._C._VariableFunctions
RECURRENT = frozenset({_VF.lstm, _VF.gru, _VF.rnn_tanh, _VF.rnn_relu})


def _layout(args: tuple) -> tuple[torch.Tensor, Any, Any, int, bool, int, int]:
    """(input, hx, params, layers, bidirectional, rows, first step's rows) of a ``_VF`` call."""
    packed = not isinstance(args[2], (list, tuple))  # (data, batch_sizes, hx, params, ...)
    if packed:
        data, batch_sizes, hx, params = args[0], args[1], args[2], args[3]
        layers, bidirectional = int(args[5]), bool(args[8])
        rows, first = int(data.shape[0]), int(batch_sizes[0]) if len(batch_sizes) else 0
        return data, hx, params, layers, bidirectional, rows, first
    data, hx, params = args[0], args[1], args[2]
    layers, bidirectional, batch_first = int(args[4]), bool(args[7]), bool(args[8])
    shape = data.shape
    rows = int(shape[0]) * int(shape[1]) if data.dim() == 3 else int(shape[0])
    first = (int(shape[0]) if batch_first else int(shape[1])) if data.dim() == 3 else 1
    return data, hx, params, layers, bidirectional, rows, first


def recurrent_flops(args: tuple) -> tuple[int, int]:
    """(forward, backward) FLOPs of one ``_VF`` recurrent call, as its matrix products."""
    data, hx, params, layers, bidirectional, rows, first = _layout(args)
    directions = 2 if bidirectional else 1
    groups = layers * directions
    per_group = len(params) // max(groups, 1)
    states = hx if isinstance(hx, (list, tuple)) else (hx,)
    h0_grad = bool(states) and isinstance(states[0], torch.Tensor) and states[0].requires_grad
    input_grad = data.requires_grad or any(p.requires_grad for p in params)
    forward = backward = 0
    for group in range(groups):
        weights = params[group * per_group : (group + 1) * per_group]
        w_ih, w_hh = weights[0], weights[1]
        gates, inputs = int(w_ih.shape[0]), int(w_ih.shape[1])
        state = int(w_hh.shape[1])  # H, or the projection's size P
        into = 2 * rows * gates * inputs
        recur = 2 * rows * gates * state
        forward += into + recur
        backward += into if w_ih.requires_grad else 0
        backward += into if (data.requires_grad if group < directions else input_grad) else 0
        backward += recur if w_hh.requires_grad else 0
        backward += recur if h0_grad else 2 * (rows - first) * gates * state
        if per_group in (3, 5):  # an LSTM's projection w_hr (P, H) after the biases
            w_hr = weights[-1]
            project = 2 * rows * int(w_hr.shape[0]) * int(w_hr.shape[1])
            forward += project
            backward += project + (project if w_hr.requires_grad else 0)
    return forward, backward
