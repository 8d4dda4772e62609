"""An alternative correct a2_gated: one matmul per gate on weight slices, one step at a time,
reverse direction by flipping the sequence (tests only)."""

import math

import torch
from torch import nn


def _init(module, hidden_size):
    k = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


def _gate(x, h, w_ih, w_hh, b_ih, b_hh, k, H):
    rows = slice(k * H, (k + 1) * H)
    out = x @ w_ih[rows].T + h @ w_hh[rows].T
    if b_ih is not None:
        out = out + b_ih[rows] + b_hh[rows]
    return out


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[-1]
    i = torch.sigmoid(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 0, H))
    f = torch.sigmoid(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 1, H))
    g = torch.tanh(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 2, H))
    o = torch.sigmoid(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 3, H))
    c_new = f * c + i * g
    return o * c_new, c_new


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[-1]
    r = torch.sigmoid(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 0, H))
    z = torch.sigmoid(_gate(x, h, w_ih, w_hh, b_ih, b_hh, 1, H))
    n_x = x @ w_ih[2 * H:].T
    n_h = h @ w_hh[2 * H:].T
    if b_ih is not None:
        n_x = n_x + b_ih[2 * H:]
        n_h = n_h + b_hh[2 * H:]
    n = torch.tanh(n_x + r * n_h)
    return n + z * (h - n)


class _Cell(nn.Module):
    GATES = 0

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        G = self.GATES
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(G * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(G * hidden_size)) if bias else None
        _init(self, hidden_size)

    def _w(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class LSTMCell(_Cell):
    GATES = 4

    def forward(self, input, hx=None):
        if input.dim() == 1:
            hx = None if hx is None else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
            h, c = self.forward(input.unsqueeze(0), hx)
            return h.squeeze(0), c.squeeze(0)
        if hx is None:
            z = torch.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (z, z)
        return lstm_cell(input, hx[0], hx[1], *self._w())


class GRUCell(_Cell):
    GATES = 3

    def forward(self, input, hx=None):
        if input.dim() == 1:
            return self.forward(input.unsqueeze(0), None if hx is None else hx.unsqueeze(0)).squeeze(0)
        if hx is None:
            hx = torch.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
        return gru_cell(input, hx, *self._w())


class _Net(nn.Module):
    GATES = 0
    N_STATES = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dirs = bias, batch_first, 2 if bidirectional else 1
        G = self.GATES
        for layer in range(num_layers):
            for d in range(self.dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                n_in = input_size if layer == 0 else hidden_size * self.dirs
                setattr(self, "weight_ih" + sfx, nn.Parameter(torch.empty(G * hidden_size, n_in)))
                setattr(self, "weight_hh" + sfx, nn.Parameter(torch.empty(G * hidden_size, hidden_size)))
                if bias:
                    setattr(self, "bias_ih" + sfx, nn.Parameter(torch.empty(G * hidden_size)))
                    setattr(self, "bias_hh" + sfx, nn.Parameter(torch.empty(G * hidden_size)))
        _init(self, hidden_size)

    def _w(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        return [getattr(self, n + sfx, None) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _run(self, seq, states):
        """seq [T, B, I]; states: list of [D*L, B, H] tensors."""
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            per_dir = []
            for d in range(self.dirs):
                xs = torch.flip(seq, [0]) if d else seq
                cur = [s[layer * self.dirs + d] for s in states]
                ys = []
                for t in range(xs.shape[0]):
                    cur = self.step(xs[t], cur, self._w(layer, d))
                    ys.append(cur[0])
                ys = torch.stack(ys)
                per_dir.append(torch.flip(ys, [0]) if d else ys)
                for k, s in enumerate(cur):
                    finals[k].append(s)
            seq = torch.cat(per_dir, dim=2)
        return seq, [torch.stack(f) for f in finals]

    def _forward(self, input, states):
        if input.dim() == 2:
            seq = input.unsqueeze(1)
            states = None if states is None else [s.unsqueeze(1) for s in states]
        else:
            seq = input.transpose(0, 1) if self.batch_first else input
        if states is None:
            z = seq.new_zeros(self.num_layers * self.dirs, seq.shape[1], self.hidden_size)
            states = [z] * self.N_STATES
        out, finals = self._run(seq, states)
        if input.dim() == 2:
            return out.squeeze(1), [f.squeeze(1) for f in finals]
        return (out.transpose(0, 1) if self.batch_first else out), finals


class LSTM(_Net):
    GATES, N_STATES = 4, 2

    @staticmethod
    def step(x, cur, w):
        return list(lstm_cell(x, cur[0], cur[1], *w))

    def forward(self, input, hx=None):
        out, (h, c) = self._forward(input, None if hx is None else list(hx))
        return out, (h, c)


class GRU(_Net):
    GATES, N_STATES = 3, 1

    @staticmethod
    def step(x, cur, w):
        return [gru_cell(x, cur[0], *w)]

    def forward(self, input, hx=None):
        out, (h,) = self._forward(input, None if hx is None else [hx])
        return out, h
