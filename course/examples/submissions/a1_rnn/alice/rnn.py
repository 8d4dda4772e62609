"""An alternative correct a1_rnn: [x, h] concatenated against fused weights, preallocated outputs,
index arithmetic for the reverse direction, einsum in BPTT (tests only)."""

from collections import namedtuple

import torch
import torch.nn as nn

Cache = namedtuple("Cache", "x h0 w_ih w_hh hs")


def _act(name):
    return {"tanh": torch.tanh, "relu": torch.relu}[name]


class RNNCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__()
        self.hidden_size = hidden_size
        self.act = _act(nonlinearity)
        bound = hidden_size ** -0.5
        self.weight_ih = nn.Parameter(torch.rand(hidden_size, input_size) * 2 * bound - bound)
        self.weight_hh = nn.Parameter(torch.rand(hidden_size, hidden_size) * 2 * bound - bound)
        if bias:
            self.bias_ih = nn.Parameter(torch.rand(hidden_size) * 2 * bound - bound)
            self.bias_hh = nn.Parameter(torch.rand(hidden_size) * 2 * bound - bound)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def forward(self, input, hx=None):
        squeeze = input.ndim == 1
        x = input.reshape(-1, input.shape[-1])
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else hx.reshape(x.shape[0], -1)
        w = torch.cat([self.weight_ih, self.weight_hh], dim=1)
        pre = torch.cat([x, h], dim=1).matmul(w.t())
        if self.bias_ih is not None:
            pre = pre + (self.bias_ih + self.bias_hh)
        h = self.act(pre)
        return h.reshape(-1) if squeeze else h


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, bidirectional=False):
        super().__init__()
        self.hidden_size, self.num_layers, self.batch_first = hidden_size, num_layers, batch_first
        self.act = _act(nonlinearity)
        self.D = 2 if bidirectional else 1
        self.use_bias = bias
        bound = hidden_size ** -0.5
        for k in range(num_layers):
            for d in range(self.D):
                s = f"l{k}" + ("_reverse" if d else "")
                fan_in = input_size if k == 0 else self.D * hidden_size
                w_ih = (torch.rand(hidden_size, fan_in) * 2 - 1) * bound
                w_hh = (torch.rand(hidden_size, hidden_size) * 2 - 1) * bound
                self.register_parameter(f"weight_ih_{s}", nn.Parameter(w_ih))
                self.register_parameter(f"weight_hh_{s}", nn.Parameter(w_hh))
                if bias:
                    self.register_parameter(f"bias_ih_{s}", nn.Parameter((torch.rand(hidden_size) * 2 - 1) * bound))
                    self.register_parameter(f"bias_hh_{s}", nn.Parameter((torch.rand(hidden_size) * 2 - 1) * bound))

    def forward(self, input, hx=None):
        unbatched = input.ndim == 2
        if unbatched:
            x = input.unsqueeze(1)
        elif self.batch_first:
            x = input.permute(1, 0, 2)
        else:
            x = input
        T, B, _ = x.shape
        H, D = self.hidden_size, self.D
        if hx is None:
            hx = x.new_zeros(self.num_layers * D, B, H)
        elif unbatched:
            hx = hx.unsqueeze(1)
        last = []
        for k in range(self.num_layers):
            out = x.new_zeros(T, B, D * H)
            for d in range(D):
                s = f"l{k}" + ("_reverse" if d else "")
                w = torch.cat([getattr(self, f"weight_ih_{s}"), getattr(self, f"weight_hh_{s}")], 1)
                b = (getattr(self, f"bias_ih_{s}") + getattr(self, f"bias_hh_{s}")) if self.use_bias else 0
                h = hx[k * D + d]
                for i in range(T):
                    t = T - 1 - i if d else i
                    h = self.act(torch.cat([x[t], h], 1) @ w.t() + b)
                    out[t, :, d * H:(d + 1) * H] = h
            last.extend([out[T - 1, :, :H], out[0, :, H:]] if D == 2 else [out[T - 1]])
            x = out
        h_n = torch.stack(last)
        if unbatched:
            return x.squeeze(1), h_n.squeeze(1)
        return (x.permute(1, 0, 2) if self.batch_first else x), h_n


def rnn_forward(x, h0, weight_ih, weight_hh, bias):
    T, B, _ = x.shape
    hs = x.new_empty(T, B, h0.shape[-1])
    xp = torch.einsum("tbi,hi->tbh", x, weight_ih) + bias
    h = h0
    for t in range(T):
        h = torch.tanh(xp[t] + torch.einsum("bk,hk->bh", h, weight_hh))
        hs[t] = h
    return hs, Cache(x.detach().clone(), h0.detach().clone(), weight_ih.detach().clone(),
                     weight_hh.detach().clone(), hs.detach().clone())


def rnn_backward(grad_hs, cache):
    x, h0, w_ih, w_hh, hs = cache
    T = hs.shape[0]
    da = []
    g_next = torch.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        a = (grad_hs[t] + g_next) * (1 - hs[t].pow(2))
        da.insert(0, a)
        g_next = torch.einsum("bh,hk->bk", a, w_hh)
    da = torch.stack(da)
    prev = torch.cat([h0[None], hs[:-1]], 0)
    return (torch.einsum("tbh,hi->tbi", da, w_ih), g_next, torch.einsum("tbh,tbi->hi", da, x),
            torch.einsum("tbh,tbk->hk", da, prev), da.sum(dim=(0, 1)))
