r"""Assignment a2_gated: LSTM and GRU, the gated recurrent networks.

A plain RNN rewrites its whole state at every step, ``h_t = tanh(x_t W_ih^T +
h_{t-1} W_hh^T + b)``, so the gradient from step t back to step s is a product of
``t - s`` Jacobians ``diag(1 - h^2) W_hh``: it vanishes (or explodes)
geometrically, and the network forgets what it saw long ago.

Gated networks add a path along which the state is *copied* unless a gate says
otherwise:

- LSTM: the cell state is updated additively, ``c' = f * c + i * g``. Along the
  cell path ``dc'/dc = diag(f)``: no weight matrix, no squashing nonlinearity.
  While the forget gate stays near 1 the information (and its gradient) passes
  through many steps unchanged (the "constant error carousel").
- GRU: the new state interpolates between the old one and a candidate,
  ``h' = (1 - z) * n + z * h``. With the update gate z near 1 the state is copied,
  and ``dh'/dh`` contains the term ``diag(z)`` directly.

The gates are sigmoids of the input and the previous state, learned like any
other weight, so the network decides what to keep, what to write and what to
show. All gates of a cell are computed together: their weights are stacked
along the first dimension (LSTM ``i, f, g, o`` -> ``[4H, *]``; GRU ``r, z, n`` ->
``[3H, *]``), so one matmul per operand serves every gate. A GRU has 3 such
blocks where an LSTM has 4, so for the same sizes it has exactly 3/4 of the
parameters.

Legend (the same symbols in every file of the course):
    B    batch size                      T    sequence length (time steps)
    I    input size (features per step)  H    hidden size
    L    number of layers (num_layers)   D    directions: 2 if bidirectional else 1
    x    input at one step, [B, I]       h, c hidden and cell state, [B, H]
    sigmoid(v) = 1 / (1 + exp(-v));  ``*`` is the elementwise product.

Layout, as in torch: sequences are time-first ``[T, B, I]`` unless
``batch_first=True`` (then ``[B, T, I]``); states are ``[D*L, B, H]`` whatever
``batch_first`` says, row ``k = layer * D + direction``. A 2-D input ``[T, I]``
(``[I]`` for a cell) is one unbatched sequence, and then the states drop their
batch dimension too.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["LSTMCell", "LSTM", "GRUCell", "GRU", "lstm_step", "gru_step",
           "create_cell_parameters", "create_layer_parameters"]


# --------------------------------------------------------------------------- plumbing
# Shape checks, layout changes and parameter bookkeeping shared by the modules;
# not part of the lesson.


def _reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """torch's scheme: every weight and bias from U(-1/sqrt(H), 1/sqrt(H))."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        nn.init.uniform_(p, -stdv, stdv)


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x W^T + b`` (b may be None)."""
    y = torch.matmul(x, weight.t())
    return y if bias is None else y + bias


def _prepare_cell(name: str, input: Tensor, states: tuple[Tensor, ...] | None,
                  hidden_size: int, n_states: int):
    """Cell input to ``x [B, I]``, states each ``[B, H]`` (zeros when None); says if unbatched."""
    if input.dim() not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
    if states is not None:
        for idx, s in enumerate(states):
            if s.dim() not in (1, 2):
                raise ValueError(
                    f"{name}: Expected hx[{idx}] to be 1D or 2D, got {s.dim()}D instead"
                )
    unbatched = input.dim() == 1
    x = input.unsqueeze(0) if unbatched else input  # (B, I)
    if states is None:
        states = tuple(x.new_zeros(x.size(0), hidden_size) for _ in range(n_states))  # (B, H)
    elif unbatched:
        states = tuple(s.unsqueeze(0) for s in states)  # (1, H)
    return x, states, unbatched


def _prepare_sequence(rnn: nn.Module, input: Tensor, states: tuple[Tensor, ...] | None,
                      n_states: int):
    """Sequence input to time-major ``x [T, B, I]`` and states each ``[D*L, B, H]``."""
    name = type(rnn).__name__
    if input.dim() not in (2, 3):
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
    unbatched = input.dim() == 2
    if states is not None:
        want = 2 if unbatched else 3
        if any(s.dim() != want for s in states):
            dims = ", ".join(f"{s.dim()}-D" for s in states)
            kind = "unbatched 2-D" if unbatched else "batched 3-D"
            raise RuntimeError(
                f"For {kind} input, the states should also be {want}-D but got ({dims}) tensors"
            )
    if unbatched:
        x = input.unsqueeze(1)  # (T, 1, I)
        states = None if states is None else tuple(s.unsqueeze(1) for s in states)  # (D*L, 1, H)
    else:
        x = input.transpose(0, 1) if rnn.batch_first else input  # (T, B, I)
    if x.size(-1) != rnn.input_size:
        raise RuntimeError(
            "input.size(-1) must be equal to input_size. "
            f"Expected {rnn.input_size}, got {x.size(-1)}"
        )
    expected = (rnn.num_layers * rnn.num_directions, x.size(1), rnn.hidden_size)
    if states is None:
        states = tuple(x.new_zeros(expected) for _ in range(n_states))  # (D*L, B, H)
    for s in states:
        if tuple(s.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(s.shape)}")
    return x, states, unbatched


def _finish_sequence(rnn: nn.Module, output: Tensor, states: tuple[Tensor, ...], unbatched: bool):
    """Time-major ``output [T, B, D*H]`` and states ``[D*L, B, H]`` back to the caller's layout."""
    if unbatched:
        return output.squeeze(1), tuple(s.squeeze(1) for s in states)  # (T, D*H), (D*L, H)
    if rnn.batch_first:
        output = output.transpose(0, 1)  # (B, T, D*H)
    return output, states


def _layer_params(module: nn.Module, layer: int, direction: int):
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of a layer and direction; biases may be None."""
    suffix = "_reverse" if direction == 1 else ""
    return tuple(
        getattr(module, f"{name}_l{layer}{suffix}", None)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


# --------------------------------------------------------------------------- parameters


def create_cell_parameters(cell: nn.Module, input_size: int, hidden_size: int, bias: bool,
                           gates: int) -> None:
    """Register a cell's parameters with ``G = gates`` stacked gate blocks (4 LSTM, 3 GRU):
    ``weight_ih [G*H, I]``, ``weight_hh [G*H, H]``, ``bias_ih [G*H]``, ``bias_hh [G*H]``
    (the biases registered as None when ``bias`` is False, as torch does); then torch's
    initialisation."""
    ### BEGIN SOLUTION
    G, H = gates, hidden_size
    cell.weight_ih = nn.Parameter(torch.empty(G * H, input_size))
    cell.weight_hh = nn.Parameter(torch.empty(G * H, H))
    if bias:
        cell.bias_ih = nn.Parameter(torch.empty(G * H))
        cell.bias_hh = nn.Parameter(torch.empty(G * H))
    else:
        cell.register_parameter("bias_ih", None)
        cell.register_parameter("bias_hh", None)
    _reset_uniform(cell, hidden_size)
    ### END SOLUTION


def create_layer_parameters(rnn: nn.Module, gates: int) -> None:
    """Register a multi-layer network's parameters with ``G = gates`` stacked gate blocks,
    in torch's order: layer by layer, forward then ``_reverse``, each as ``weight_ih_l{k}
    [G*H, I or D*H]``, ``weight_hh_l{k} [G*H, H]``, then (if ``rnn.bias``) ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` ``[G*H]``; then torch's initialisation."""
    ### BEGIN SOLUTION
    G, D, H = gates, rnn.num_directions, rnn.hidden_size
    for layer in range(rnn.num_layers):
        layer_input_size = rnn.input_size if layer == 0 else D * H
        for direction in range(D):
            suffix = "_reverse" if direction == 1 else ""
            rnn.register_parameter(f"weight_ih_l{layer}{suffix}",
                                   nn.Parameter(torch.empty(G * H, layer_input_size)))
            rnn.register_parameter(f"weight_hh_l{layer}{suffix}",
                                   nn.Parameter(torch.empty(G * H, H)))
            if rnn.bias:
                rnn.register_parameter(f"bias_ih_l{layer}{suffix}",
                                       nn.Parameter(torch.empty(G * H)))
                rnn.register_parameter(f"bias_hh_l{layer}{suffix}",
                                       nn.Parameter(torch.empty(G * H)))
    _reset_uniform(rnn, H)
    ### END SOLUTION


class _Recurrent(nn.Module):
    """Stores the constructor arguments shared by LSTM and GRU (plumbing)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                 batch_first: bool, bidirectional: bool) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be greater than zero")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bias={self.bias}, batch_first={self.batch_first}, "
                f"bidirectional={self.bidirectional}")


# --------------------------------------------------------------------------- LSTM


def lstm_step(gates_x: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor,
              bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step, given the input's share of the four gates.

        [i f g o] = gates_x + h W_hh^T + b_hh,   gates_x = x W_ih^T + b_ih   ([B, 4H], split in 4)
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);   g = tanh(g)
        c' = f * c + i * g
        h' = o * tanh(c')

    Splitting off ``gates_x`` lets a sequence compute it for every step at once;
    only the ``h W_hh^T`` half must wait for the previous step.

    Args:
        gates_x: ``[B, 4H]``. h, c: ``[B, H]``. weight_hh: ``[4H, H]``. bias_hh: ``[4H]`` or None.

    Returns:
        ``(h' [B, H], c' [B, H])``.
    """
    ### BEGIN SOLUTION
    gates = gates_x + _linear(h, weight_hh, bias_hh)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c = f * c + i * g  # the additive path: dc'/dc = diag(f)
    h = o * torch.tanh(c)
    return h, c
    ### END SOLUTION


class LSTMCell(nn.Module):
    r"""One step of a long short-term memory network; the same as ``torch.nn.LSTMCell``.

        i  = sigmoid(x W_ii^T + b_ii + h W_hi^T + b_hi)     input gate: how much of g to write
        f  = sigmoid(x W_if^T + b_if + h W_hf^T + b_hf)     forget gate: how much of c to keep
        g  = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)        candidate cell content
        o  = sigmoid(x W_io^T + b_io + h W_ho^T + b_ho)     output gate: how much of c to show
        c' = f * c + i * g
        h' = o * tanh(c')

    The four blocks are stacked in the order i, f, g, o: ``weight_ih = [W_ii; W_if;
    W_ig; W_io]`` and likewise for ``weight_hh``, ``bias_ih``, ``bias_hh``.

    Args:
        input_size: I. hidden_size: H.
        bias: if False there is no ``bias_ih``/``bias_hh`` (registered as None, as torch does).

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)), as in torch):
        weight_ih ``[4H, I]``, weight_hh ``[4H, H]``, bias_ih ``[4H]``, bias_hh ``[4H]``.

    Inputs: ``input [B, I]`` or ``[I]``; ``(h, c)`` each ``[B, H]`` or ``[H]``, None for zeros.
    Outputs: ``(h', c')`` each ``[B, H]`` (``[H]`` for an unbatched input).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        create_cell_parameters(self, input_size, hidden_size, bias, gates=4)

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"

    def forward(self, input: Tensor,
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        # x (B, I); h, c (B, H)
        x, (h, c), unbatched = _prepare_cell("LSTMCell", input, hx, self.hidden_size, 2)
        ### BEGIN SOLUTION
        gates_x = _linear(x, self.weight_ih, self.bias_ih)  # (B, 4H): all four gates in one matmul
        h, c = lstm_step(gates_x, h, c, self.weight_hh, self.bias_hh)  # (B, H) each
        ### END SOLUTION
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class LSTM(_Recurrent):
    r"""A multi-layer LSTM; ``torch.nn.LSTM`` without dropout, proj_size or packed input.

    Layer ``l`` direction ``d`` runs ``LSTMCell``'s equations for t = 1..T
    (backwards, t = T..1, when d = 1), starting from ``(h0[k], c0[k])``, k = l*D + d:

        i_t, f_t, o_t = sigmoid(...),  g_t = tanh(...)     (see ``LSTMCell``)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    Layer 0 reads the input; layer l > 0 reads the outputs ``h_t`` of layer l-1,
    both directions concatenated (``[T, B, D*H]``). The output is the last
    layer's ``h_t`` at every step; ``h_n``, ``c_n`` hold the final states of every
    layer and direction (for the reverse direction, the states after reading x_1).

    Args:
        input_size: I. hidden_size: H. num_layers: L. bias: if False, no biases at all.
        batch_first: input and output are ``[B, T, *]`` instead of ``[T, B, *]``.
        bidirectional: run a second LSTM backwards in time in every layer.

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)); gate blocks stacked i, f, g, o;
    registered in torch's order so state_dicts line up):
        weight_ih_l{k} ``[4H, I]`` (``[4H, D*H]`` for k > 0), weight_hh_l{k} ``[4H, H]``,
        bias_ih_l{k} ``[4H]``, bias_hh_l{k} ``[4H]``, and the same with ``_reverse``.

    Inputs: ``input [T, B, I]`` (``[B, T, I]`` if batch_first, ``[T, I]`` unbatched);
        ``(h0, c0)`` each ``[D*L, B, H]`` (``[D*L, H]`` unbatched), None for zeros.
    Outputs: ``(output [T, B, D*H], (h_n, c_n))``, h_n and c_n each ``[D*L, B, H]``;
        output ``[B, T, D*H]`` if batch_first; ``[T, D*H]`` and ``[D*L, H]`` unbatched.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, bidirectional)
        create_layer_parameters(self, gates=4)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        x, (h0, c0), unbatched = _prepare_sequence(self, input, hx, 2)  # (T, B, I), (D*L, B, H)
        ### BEGIN SOLUTION
        T, D = x.size(0), self.num_directions
        layer_input = x  # (T, B, I), then (T, B, D*H) from layer 1 on
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                weight_ih, weight_hh, bias_ih, bias_hh = _layer_params(self, layer, direction)
                # The input's share of the gates has no recurrence: every step in one matmul.
                gates_x = _linear(layer_input, weight_ih, bias_ih)  # (T, B, 4H)
                h, c = h0[layer * D + direction], c0[layer * D + direction]  # (B, H)
                out = [None] * T
                for t in (range(T - 1, -1, -1) if direction == 1 else range(T)):
                    h, c = lstm_step(gates_x[t], h, c, weight_hh, bias_hh)  # (B, H)
                    out[t] = h
                outputs.append(torch.stack(out))  # (T, B, H)
                h_n.append(h)
                c_n.append(c)
            layer_input = torch.cat(outputs, dim=-1)  # (T, B, D*H)
        states = (torch.stack(h_n), torch.stack(c_n))  # (D*L, B, H) each
        output, states = _finish_sequence(self, layer_input, states, unbatched)
        return output, states
        ### END SOLUTION


# --------------------------------------------------------------------------- GRU


def gru_step(gates_x: Tensor, h: Tensor, weight_hh: Tensor,
             bias_hh: Tensor | None = None) -> Tensor:
    """One GRU step, given the input's share of the three gates.

        [a_r a_z a_n] = gates_x = x W_ih^T + b_ih      ([B, 3H], split in 3)
        [b_r b_z b_n] = h W_hh^T + b_hh                ([B, 3H], split in 3)
        r  = sigmoid(a_r + b_r)
        z  = sigmoid(a_z + b_z)
        n  = tanh(a_n + r * b_n)        the reset gate scales the hidden share only
        h' = (1 - z) * n + z * h

    The two halves stay separate (unlike the LSTM's) because r multiplies
    ``W_hn h + b_hn`` alone.

    Args:
        gates_x: ``[B, 3H]``. h: ``[B, H]``. weight_hh: ``[3H, H]``. bias_hh: ``[3H]`` or None.

    Returns:
        ``h' [B, H]``.
    """
    ### BEGIN SOLUTION
    gates_h = _linear(h, weight_hh, bias_hh)  # (B, 3H)
    x_r, x_z, x_n = gates_x.chunk(3, dim=-1)  # each (B, H)
    h_r, h_z, h_n = gates_h.chunk(3, dim=-1)  # each (B, H)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return z * n + (1 - z) * h  # interpolation: z near 1 copies h
    ### END SOLUTION


class GRUCell(nn.Module):
    r"""One step of a gated recurrent unit; the same as ``torch.nn.GRUCell``.

        r  = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)           reset gate
        z  = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)           update gate
        n  = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))        candidate state
        h' = (1 - z) * n + z * h

    The three blocks are stacked in the order r, z, n: ``weight_ih = [W_ir; W_iz;
    W_in]`` and likewise for ``weight_hh``, ``bias_ih``, ``bias_hh``. Three blocks
    where the LSTM has four: 3/4 of its parameters, and no separate cell state.

    Args:
        input_size: I. hidden_size: H.
        bias: if False there is no ``bias_ih``/``bias_hh`` (registered as None, as torch does).

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)), as in torch):
        weight_ih ``[3H, I]``, weight_hh ``[3H, H]``, bias_ih ``[3H]``, bias_hh ``[3H]``.

    Inputs: ``input [B, I]`` or ``[I]``; ``hx [B, H]`` or ``[H]``, None for zeros.
    Output: ``h' [B, H]`` (``[H]`` for an unbatched input).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        create_cell_parameters(self, input_size, hidden_size, bias, gates=3)

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        states = None if hx is None else (hx,)
        # x (B, I); h (B, H)
        x, (h,), unbatched = _prepare_cell("GRUCell", input, states, self.hidden_size, 1)
        ### BEGIN SOLUTION
        gates_x = _linear(x, self.weight_ih, self.bias_ih)  # (B, 3H): all three gates in one matmul
        h = gru_step(gates_x, h, self.weight_hh, self.bias_hh)  # (B, H)
        ### END SOLUTION
        return h.squeeze(0) if unbatched else h


class GRU(_Recurrent):
    r"""A multi-layer GRU; the same as ``torch.nn.GRU`` without dropout or packed input.

    Layer ``l`` direction ``d`` runs ``GRUCell``'s equations for t = 1..T
    (backwards, t = T..1, when d = 1), starting from ``h0[k]``, k = l*D + d:

        r_t = sigmoid(...),  z_t = sigmoid(...)           (see ``GRUCell``)
        n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Layer 0 reads the input; layer l > 0 reads the outputs of layer l-1, both
    directions concatenated (``[T, B, D*H]``). The output is the last layer's
    ``h_t`` at every step; ``h_n`` holds the final state of every layer and
    direction (for the reverse direction, the state after reading x_1).

    Args:
        input_size: I. hidden_size: H. num_layers: L. bias: if False, no biases at all.
        batch_first: input and output are ``[B, T, *]`` instead of ``[T, B, *]``.
        bidirectional: run a second GRU backwards in time in every layer.

    Parameters (all drawn from U(-1/sqrt(H), 1/sqrt(H)); gate blocks stacked r, z, n;
    registered in torch's order so state_dicts line up):
        weight_ih_l{k} ``[3H, I]`` (``[3H, D*H]`` for k > 0), weight_hh_l{k} ``[3H, H]``,
        bias_ih_l{k} ``[3H]``, bias_hh_l{k} ``[3H]``, and the same with ``_reverse``.

    Inputs: ``input [T, B, I]`` (``[B, T, I]`` if batch_first, ``[T, I]`` unbatched);
        ``hx [D*L, B, H]`` (``[D*L, H]`` unbatched), None for zeros.
    Outputs: ``(output [T, B, D*H], h_n [D*L, B, H])``; output ``[B, T, D*H]`` if
        batch_first; ``[T, D*H]`` and ``[D*L, H]`` unbatched.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, bidirectional)
        create_layer_parameters(self, gates=3)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        states = None if hx is None else (hx,)
        x, (h0,), unbatched = _prepare_sequence(self, input, states, 1)  # (T, B, I), (D*L, B, H)
        ### BEGIN SOLUTION
        T, D = x.size(0), self.num_directions
        layer_input = x  # (T, B, I), then (T, B, D*H) from layer 1 on
        h_n = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                weight_ih, weight_hh, bias_ih, bias_hh = _layer_params(self, layer, direction)
                gates_x = _linear(layer_input, weight_ih, bias_ih)  # (T, B, 3H): every step at once
                h = h0[layer * D + direction]  # (B, H)
                out = [None] * T
                for t in (range(T - 1, -1, -1) if direction == 1 else range(T)):
                    h = gru_step(gates_x[t], h, weight_hh, bias_hh)  # (B, H)
                    out[t] = h
                outputs.append(torch.stack(out))  # (T, B, H)
                h_n.append(h)
            layer_input = torch.cat(outputs, dim=-1)  # (T, B, D*H)
        output, (h_n,) = _finish_sequence(self, layer_input, (torch.stack(h_n),), unbatched)
        return output, h_n
        ### END SOLUTION
