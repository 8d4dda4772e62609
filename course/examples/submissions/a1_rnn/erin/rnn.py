"""An alternative correct a1_rnn: one step at a time, cells reused, reverse by flipping (tests only)."""

import math

import torch
from torch import nn


def _init(module, hidden_size):
    k = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -k, k)


def _cell(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity):
    pre = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        pre = pre + b_ih + b_hh
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


class RNNCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(nonlinearity)
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(hidden_size)) if bias else None
        _init(self, hidden_size)

    def forward(self, input, hx=None):
        if input.dim() == 1:
            h = None if hx is None else hx[None]
            return self.forward(input[None], h)[0]
        if hx is None:
            hx = torch.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
        return _cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.nonlinearity, self.bias, self.batch_first = nonlinearity, bias, batch_first
        self.dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            for d in range(self.dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                n_in = input_size if layer == 0 else hidden_size * self.dirs
                setattr(self, "weight_ih" + sfx, nn.Parameter(torch.empty(hidden_size, n_in)))
                setattr(self, "weight_hh" + sfx, nn.Parameter(torch.empty(hidden_size, hidden_size)))
                if bias:
                    setattr(self, "bias_ih" + sfx, nn.Parameter(torch.empty(hidden_size)))
                    setattr(self, "bias_hh" + sfx, nn.Parameter(torch.empty(hidden_size)))
        _init(self, hidden_size)

    def _params(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        return [getattr(self, n + sfx, None) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def forward(self, input, hx=None):
        if input.dim() == 2:
            out, h = self.forward_batched(input.unsqueeze(1), None if hx is None else hx.unsqueeze(1), False)
            return out.squeeze(1), h.squeeze(1)
        return self.forward_batched(input, hx, self.batch_first)

    def forward_batched(self, input, hx, batch_first):
        seq = input.transpose(0, 1) if batch_first else input
        T, B = seq.shape[0], seq.shape[1]
        if hx is None:
            hx = seq.new_zeros(self.num_layers * self.dirs, B, self.hidden_size)
        finals = []
        for layer in range(self.num_layers):
            per_dir = []
            for d in range(self.dirs):
                xs = seq.flip(0) if d == 1 else seq
                h = hx[layer * self.dirs + d]
                steps = []
                for t in range(T):
                    h = _cell(xs[t], h, *self._params(layer, d), self.nonlinearity)
                    steps.append(h)
                ys = torch.stack(steps, 0)
                per_dir.append(ys.flip(0) if d == 1 else ys)
                finals.append(h)
            seq = torch.cat(per_dir, 2)
        out = seq.transpose(0, 1) if batch_first else seq
        return out, torch.stack(finals, 0)


def rnn_forward(x, h0, weight_ih, weight_hh, bias):
    states = []
    h = h0
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ weight_ih.T + h @ weight_hh.T + bias)
        states.append(h)
    hs = torch.stack(states)
    return hs, {"x": x.detach(), "h0": h0.detach(), "w_ih": weight_ih.detach(), "w_hh": weight_hh.detach(),
                "hs": hs.detach()}


def rnn_backward(grad_hs, cache):
    x, h0, w_ih, w_hh, hs = cache["x"], cache["h0"], cache["w_ih"], cache["w_hh"], cache["hs"]
    dx = torch.zeros_like(x)
    dw_ih, dw_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
    db = torch.zeros(w_hh.shape[0], dtype=hs.dtype)
    carry = torch.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        prev = hs[t - 1] if t > 0 else h0
        a = (grad_hs[t] + carry) * (1 - hs[t] ** 2)
        dx[t] = a @ w_ih
        dw_ih += a.T @ x[t]
        dw_hh += a.T @ prev
        db += a.sum(0)
        carry = a @ w_hh
    return dx, carry, dw_ih, dw_hh, db
