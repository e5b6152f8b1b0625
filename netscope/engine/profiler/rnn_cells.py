"""The fused LSTM and GRU cells a GPU runs, done on the host for the stand-in GPU.

On a CUDA (or stand-in) device, ``nn.LSTM`` / ``nn.GRU`` run each time step through
``_thnn_fused_lstm_cell`` / ``_thnn_fused_gru_cell`` and their backward kernels, which exist
only for GPUs: on the stand-in they reach the host with no kernel to run. These are the same
math in torch ops, with the workspace the GPU kernels keep for the backward (its size is what
the step holds): the LSTM's four activated gates, the GRU's three gates, ``hx`` and the hidden
candidate.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _summed(gates: Tensor, bias: Tensor | None) -> Tensor:
    return gates if bias is None else gates + bias


def lstm_cell(
    input_gates: Tensor,
    hidden_gates: Tensor,
    cx: Tensor,
    input_bias: Tensor | None = None,
    hidden_bias: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """(hy, cy, workspace): ``_thnn_fused_lstm_cell``."""
    gates = _summed(input_gates, input_bias) + _summed(hidden_gates, hidden_bias)
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    cy = f * cx + i * g
    hy = o * cy.tanh()
    return hy, cy, torch.cat((i, f, g, o), 1)


def lstm_cell_backward(
    grad_hy: Tensor | None,
    grad_cy: Tensor | None,
    cx: Tensor,
    cy: Tensor,
    workspace: Tensor,
    has_bias: bool,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """(grads of the gates, cx and the bias): ``_thnn_fused_lstm_cell_backward_impl``."""
    if grad_hy is None and grad_cy is None:
        return None, None, None
    i, f, g, o = workspace.chunk(4, 1)
    tanh_cy = cy.tanh()
    grad_c = torch.zeros_like(cy) if grad_cy is None else grad_cy.clone()
    grad_o = torch.zeros_like(o)
    if grad_hy is not None:
        grad_c = grad_c + grad_hy * o * (1 - tanh_cy * tanh_cy)
        grad_o = grad_hy * tanh_cy
    grad_gates = torch.cat(
        (
            grad_c * g * i * (1 - i),
            grad_c * cx * f * (1 - f),
            grad_c * i * (1 - g * g),
            grad_o * o * (1 - o),
        ),
        1,
    )
    grad_bias = grad_gates.sum(0) if has_bias else None
    return grad_gates, grad_c * f, grad_bias


def gru_cell(
    input_gates: Tensor,
    hidden_gates: Tensor,
    hx: Tensor,
    input_bias: Tensor | None = None,
    hidden_bias: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """(hy, workspace): ``_thnn_fused_gru_cell``."""
    in_r, in_i, in_n = _summed(input_gates, input_bias).chunk(3, 1)
    hid_r, hid_i, hid_n = _summed(hidden_gates, hidden_bias).chunk(3, 1)
    reset = (in_r + hid_r).sigmoid()
    update = (in_i + hid_i).sigmoid()
    new = (in_n + reset * hid_n).tanh()
    hy = new + update * (hx - new)
    return hy, torch.cat((reset, update, new, hx, hid_n), 1)


def gru_cell_backward(
    grad_hy: Tensor, workspace: Tensor, has_bias: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor | None]:
    """(grads of the input gates, hidden gates, hx, input bias, hidden bias):
    ``_thnn_fused_gru_cell_backward``."""
    reset, update, new, hx, hid_n = workspace.chunk(5, 1)
    grad_new = grad_hy * (1 - update) * (1 - new * new)
    grad_update = grad_hy * (hx - new) * update * (1 - update)
    grad_reset = grad_new * hid_n * reset * (1 - reset)
    grad_input = torch.cat((grad_reset, grad_update, grad_new), 1)
    grad_hidden = torch.cat((grad_reset, grad_update, grad_new * reset), 1)
    grad_hx = grad_hy * update
    if not has_bias:
        return grad_input, grad_hidden, grad_hx, None, None
    return grad_input, grad_hidden, grad_hx, grad_input.sum(0), grad_hidden.sum(0)


GPU_ONLY_CELLS = {
    torch.ops.aten._thnn_fused_lstm_cell.default: lstm_cell,
    torch.ops.aten._thnn_fused_lstm_cell_backward_impl.default: lstm_cell_backward,
    torch.ops.aten._thnn_fused_gru_cell.default: gru_cell,
    torch.ops.aten._thnn_fused_gru_cell_backward.default: gru_cell_backward,
}
