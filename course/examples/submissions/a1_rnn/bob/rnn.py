"""Assignment a1_rnn: the Elman recurrent network, and back-propagation through time by hand.

A recurrent network reads a sequence one step at a time and carries a hidden
state from each step to the next:

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

The same weights serve every step, so one network reads sequences of any
length. Back-propagating through the recurrence multiplies the gradient by
``diag(1 - h_t^2) W_hh`` once per step (see ``rnn_backward``): over many steps
that product shrinks or blows up, which is why a plain RNN struggles with
long-range dependencies (a2_gated's LSTM and GRU fix that).

Legend (the same symbols in every file of the course):
    B    batch size                      T    sequence length (time steps)
    I    input size (features per step)  H    hidden size
    L    number of layers (num_layers)   D    directions: 2 if bidirectional else 1
    x_t  input at step t, [B, I]         h_t  hidden state after step t, [B, H]
    act  the nonlinearity, tanh or relu

Layout, as in torch: sequences are time-first ``[T, B, I]`` unless
``batch_first=True`` (then ``[B, T, I]``); hidden states are ``[D*L, B, H]``
whatever ``batch_first`` says, row ``k = layer * D + direction``. A 2-D input
``[T, I]`` (``[I]`` for a cell) is one unbatched sequence, and then the hidden
states drop their batch dimension too.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["RNNCell", "RNN", "rnn_step", "rnn_forward", "rnn_backward", "RNNCache"]

_NONLINEARITIES = ("tanh", "relu")


# --------------------------------------------------------------------------- plumbing
# Shape checks and layout changes shared by the modules; not part of the lesson.


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def _reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """torch's scheme: every weight and bias from U(-1/sqrt(H), 1/sqrt(H))."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        nn.init.uniform_(p, -stdv, stdv)


def _prepare_cell(name: str, input: Tensor, hx: Tensor | None, hidden_size: int):
    """Cell input to ``x [B, I]``, ``h [B, H]`` (zeros when ``hx`` is None); says if unbatched."""
    if input.dim() not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
    if hx is not None and hx.dim() not in (1, 2):
        raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
    unbatched = input.dim() == 1
    x = input.unsqueeze(0) if unbatched else input  # (B, I)
    if hx is None:
        h = x.new_zeros(x.size(0), hidden_size)  # (B, H)
    else:
        h = hx.unsqueeze(0) if unbatched else hx  # (B, H)
    return x, h, unbatched


def _prepare_sequence(rnn: "RNN", input: Tensor, hx: Tensor | None):
    """Sequence input to time-major ``x [T, B, I]`` and ``h0 [D*L, B, H]``; says if unbatched."""
    if input.dim() not in (2, 3):
        raise ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
    unbatched = input.dim() == 2
    if unbatched:
        if hx is not None and hx.dim() != 2:
            raise RuntimeError(
                f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor"
            )
        x = input.unsqueeze(1)  # (T, 1, I)
        hx = hx.unsqueeze(1) if hx is not None else None  # (D*L, 1, H)
    else:
        if hx is not None and hx.dim() != 3:
            raise RuntimeError(
                f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor"
            )
        x = input.transpose(0, 1) if rnn.batch_first else input  # (T, B, I)
    if x.size(-1) != rnn.input_size:
        raise RuntimeError(
            "input.size(-1) must be equal to input_size. "
            f"Expected {rnn.input_size}, got {x.size(-1)}"
        )
    expected = (rnn.num_layers * rnn.num_directions, x.size(1), rnn.hidden_size)
    if hx is None:
        hx = x.new_zeros(expected)  # (D*L, B, H)
    elif tuple(hx.shape) != expected:
        raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")
    return x, hx, unbatched


def _finish_sequence(rnn: "RNN", output: Tensor, h_n: Tensor, unbatched: bool):
    """Time-major ``output [T, B, D*H]`` back to the caller's layout."""
    if unbatched:
        return output.squeeze(1), h_n.squeeze(1)  # (T, D*H), (D*L, H)
    if rnn.batch_first:
        output = output.transpose(0, 1)  # (B, T, D*H)
    return output, h_n


def _layer_params(module: nn.Module, layer: int, direction: int):
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of a layer and direction; biases may be None."""
    suffix = "_reverse" if direction == 1 else ""
    return tuple(
        getattr(module, f"{name}_l{layer}{suffix}", None)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


# --------------------------------------------------------------------------- the cell


def rnn_step(x_proj: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None = None,
             nonlinearity: str = "tanh") -> Tensor:
    """One step of the recurrence, given the input's share of the pre-activation.

        h' = act(x_proj + h W_hh^T + b_hh),   x_proj = x W_ih^T + b_ih

    Splitting off ``x_proj`` lets a sequence compute it for every step at once
    (one matmul over ``[T, B, I]``); only the ``h W_hh^T`` half must wait for the
    previous step.

    Args:
        x_proj: ``[B, H]``, the input projection ``x W_ih^T + b_ih``.
        h: ``[B, H]``, the previous hidden state.
        weight_hh: ``[H, H]``. bias_hh: ``[H]`` or None.
        nonlinearity: "tanh" or "relu".

    Returns:
        ``[B, H]``, the next hidden state.
    """
    ### BEGIN SOLUTION
    pre = x_proj + torch.matmul(h, weight_hh)  # (B, H)
    if bias_hh is not None:
        pre = pre + bias_hh
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)
    ### END SOLUTION


class RNNCell(nn.Module):
    r"""One step of an Elman RNN; the same as ``torch.nn.RNNCell``.

        h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)

    Args:
        input_size: I. hidden_size: H.
        bias: if False there is no ``bias_ih``/``bias_hh`` (registered as None, as torch does).
        nonlinearity: "tanh" or "relu".

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)), as in torch):
        weight_ih ``[H, I]``, weight_hh ``[H, H]``, bias_ih ``[H]``, bias_hh ``[H]``.

    Inputs: ``input [B, I]`` or ``[I]``; ``hx [B, H]`` or ``[H]``, None for zeros.
    Output: ``h' [B, H]`` (``[H]`` for an unbatched input).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh") -> None:
        super().__init__()
        _check_nonlinearity(nonlinearity)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.nonlinearity = nonlinearity
        ### BEGIN SOLUTION
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        ### END SOLUTION

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
                f"nonlinearity={self.nonlinearity!r}")

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unbatched = _prepare_cell("RNNCell", input, hx, self.hidden_size)  # (B, I), (B, H)
        ### BEGIN SOLUTION
        x_proj = torch.matmul(x, self.weight_ih.t())  # (B, H)
        if self.bias_ih is not None:
            x_proj = x_proj + self.bias_ih
        h = rnn_step(x_proj, h, self.weight_hh, self.bias_hh, self.nonlinearity)  # (B, H)
        ### END SOLUTION
        return h.squeeze(0) if unbatched else h


# --------------------------------------------------------------------------- the network


class RNN(nn.Module):
    r"""A multi-layer Elman RNN; the same as ``torch.nn.RNN`` without dropout or packed input.

    Layer ``l`` direction ``d`` runs, for t = 1..T (backwards, t = T..1, when d = 1):

        h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

    Layer 0 reads the input; layer l > 0 reads the outputs of layer l-1, both
    directions concatenated (``[T, B, D*H]``). The output is the last layer's
    ``h_t`` at every step, forward and reverse concatenated; ``h_n`` holds the
    final state of every layer and direction (for the reverse direction that is
    the state after reading x_1).

    Args:
        input_size: I. hidden_size: H. num_layers: L.
        nonlinearity: "tanh" or "relu". bias: if False, no biases at all.
        batch_first: input and output are ``[B, T, *]`` instead of ``[T, B, *]``.
        bidirectional: run a second RNN backwards in time in every layer.

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)); k = layer index, registered
    in torch's order, so state_dicts line up):
        weight_ih_l{k} ``[H, I]`` (``[H, D*H]`` for k > 0), weight_hh_l{k} ``[H, H]``,
        bias_ih_l{k} ``[H]``, bias_hh_l{k} ``[H]``, and the same with ``_reverse``.

    Inputs: ``input [T, B, I]`` (``[B, T, I]`` if batch_first, ``[T, I]`` unbatched);
        ``hx [D*L, B, H]`` (``[D*L, H]`` unbatched), None for zeros.
    Outputs: ``(output [T, B, D*H], h_n [D*L, B, H])``; output ``[B, T, D*H]`` if
        batch_first, ``[T, D*H]`` and ``[D*L, H]`` unbatched.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 bidirectional: bool = False) -> None:
        super().__init__()
        _check_nonlinearity(nonlinearity)
        if num_layers < 1:
            raise ValueError("num_layers must be greater than zero")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = nonlinearity
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        ### BEGIN SOLUTION
        D, H = self.num_directions, hidden_size
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else D * H
            for direction in range(D):
                suffix = "_reverse" if direction == 1 else ""
                self.register_parameter(f"weight_ih_l{layer}{suffix}",
                                        nn.Parameter(torch.empty(H, layer_input_size)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}",
                                        nn.Parameter(torch.empty(H, H)))
                if bias:
                    self.register_parameter(f"bias_ih_l{layer}{suffix}",
                                            nn.Parameter(torch.empty(H)))
                    self.register_parameter(f"bias_hh_l{layer}{suffix}",
                                            nn.Parameter(torch.empty(H)))
        self.reset_parameters()
        ### END SOLUTION

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"nonlinearity={self.nonlinearity!r}, bias={self.bias}, "
                f"batch_first={self.batch_first}, bidirectional={self.bidirectional}")

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, h0, unbatched = _prepare_sequence(self, input, hx)  # (T, B, I), (D*L, B, H)
        ### BEGIN SOLUTION
        T, D = x.size(0), self.num_directions
        layer_input = x  # (T, B, I), then (T, B, D*H) from layer 1 on
        h_n = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                weight_ih, weight_hh, bias_ih, bias_hh = _layer_params(self, layer, direction)
                # The input projection has no recurrence: every step in one matmul.
                x_proj = torch.matmul(layer_input, weight_ih.t())  # (T, B, H)
                if bias_ih is not None:
                    x_proj = x_proj + bias_ih
                h = h0[layer * D + direction]  # (B, H)
                out = [None] * T
                for t in (range(T - 1, -1, -1) if direction == 1 else range(T)):
                    h = rnn_step(x_proj[t], h, weight_hh, bias_hh, self.nonlinearity)  # (B, H)
                    out[t] = h
                outputs.append(torch.stack(out))  # (T, B, H)
                h_n.append(h)
            layer_input = torch.cat(outputs, dim=-1)  # (T, B, D*H)
        h_n = torch.stack(h_n)  # (D*L, B, H)
        return _finish_sequence(self, layer_input, h_n, unbatched)
        ### END SOLUTION


# --------------------------------------------------------------------------- BPTT by hand


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward`` (all detached from autograd)."""

    x: Tensor          # [T, B, I] the inputs
    h0: Tensor         # [B, H] the initial state
    weight_ih: Tensor  # [H, I]
    weight_hh: Tensor  # [H, H]
    hs: Tensor         # [T, B, H] hs[t] = h_t, the state after step t


def rnn_forward(x: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                bias: Tensor) -> tuple[Tensor, RNNCache]:
    """Single-layer tanh RNN over a whole sequence, keeping what the backward pass needs.

        h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b),   t = 1..T, h_0 = ``h0``

    (one bias ``b [H]``, standing for torch's ``b_ih + b_hh``).

    Args:
        x: ``[T, B, I]``. h0: ``[B, H]``. weight_ih: ``[H, I]``. weight_hh: ``[H, H]``.
        bias: ``[H]``.

    Returns:
        ``(hs [T, B, H], cache)`` with ``hs[t]`` the state after step t.
    """
    ### BEGIN SOLUTION
    x_proj = torch.matmul(x, weight_ih.t()) + bias  # (T, B, H)
    h = h0
    hs = []
    for t in range(x.size(0)):
        h = torch.tanh(x_proj[t] + torch.matmul(h, weight_hh.t()))  # (B, H)
        hs.append(h)
    hs = torch.stack(hs)  # (T, B, H)
    cache = RNNCache(x.detach(), h0.detach(), weight_ih.detach(), weight_hh.detach(), hs.detach())
    return hs, cache
    ### END SOLUTION


@torch.no_grad()
def rnn_backward(grad_hs: Tensor, cache: RNNCache) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Back-propagation through time for ``rnn_forward``, without autograd.

    ``grad_hs[t]`` is dLoss/dh_t coming from outside the recurrence (from an
    output layer, say). The total gradient reaching ``h_t`` also includes what
    flows back from step t+1, so walk backwards in time:

        g_t  = grad_hs[t] + a_{t+1} W_hh        (a_{T+1} W_hh = 0)
        a_t  = g_t * (1 - h_t^2)                dLoss/d(pre-activation); tanh' = 1 - tanh^2
        dh0  = a_1 W_hh

    Every weight is shared by all steps, so its gradient sums over t:

        dx_t = a_t W_ih,   dW_ih = sum_t a_t^T x_t,   dW_hh = sum_t a_t^T h_{t-1},
        db   = sum_t sum_batch a_t

    Only the a_t need the loop; the sums are one matmul each afterwards.

    Args:
        grad_hs: ``[T, B, H]``. cache: from ``rnn_forward``.

    Returns:
        ``(dx [T, B, I], dh0 [B, H], dweight_ih [H, I], dweight_hh [H, H], dbias [H])``.
    """
    ### BEGIN SOLUTION
    x, h0, weight_ih, weight_hh, hs = cache
    T, B, H = hs.shape
    grad_pre = torch.empty_like(hs)  # (T, B, H): a_t
    dh = torch.zeros_like(h0)  # (B, H): gradient reaching h_t from step t+1
    for t in range(T - 1, -1, -1):
        g = grad_hs[t] + dh  # (B, H)
        grad_pre[t] = g * (1 - hs[t] * hs[t])
        dh = torch.matmul(grad_pre[t], weight_hh)  # (B, H): now the gradient reaching h_{t-1}
    h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])  # (T, B, H): h_{t-1} for every t
    a = grad_pre.reshape(T * B, H)  # (T*B, H)
    dx = torch.matmul(grad_pre, weight_ih)  # (T, B, I)
    dweight_ih = torch.matmul(a.t(), x.reshape(T * B, -1))  # (H, I)
    dweight_hh = torch.matmul(a.t(), h_prev.reshape(T * B, H))  # (H, H)
    dbias = a.sum(dim=0)  # (H,)
    return dx, dh, dweight_ih, dweight_hh, dbias
    ### END SOLUTION
