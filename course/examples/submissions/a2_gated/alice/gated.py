"""An alternative correct a2_gated: fused [x, h] @ [W_ih, W_hh]^T for the LSTM gates, torch.split,
preallocated output buffers written by index, permute for batch_first (tests only)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def _uniform(shape, k):
    return nn.Parameter(torch.empty(*shape).uniform_(-k, k))


def _lstm_step(x, h, c, w_ih, w_hh, b):
    z = torch.cat((x, h), dim=-1) @ torch.cat((w_ih, w_hh), dim=1).t()
    if b is not None:
        z = z + b
    i, f, g, o = torch.split(z, h.shape[-1], dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[-1]
    gi = F.linear(x, w_ih, b_ih)
    gh = F.linear(h, w_hh, b_hh)
    rz = torch.sigmoid(gi[..., :2 * H] + gh[..., :2 * H])
    r, z = rz[..., :H], rz[..., H:]
    n = torch.tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return torch.lerp(n, h, z)


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        k = hidden_size ** -0.5
        self.hidden_size = hidden_size
        self.weight_ih = _uniform((4 * hidden_size, input_size), k)
        self.weight_hh = _uniform((4 * hidden_size, hidden_size), k)
        if bias:
            self.bias_ih = _uniform((4 * hidden_size,), k)
            self.bias_hh = _uniform((4 * hidden_size,), k)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def forward(self, input, hx=None):
        batched = input.ndim == 2
        x = input if batched else input[None]
        if hx is None:
            h = c = x.new_zeros(x.shape[0], self.hidden_size)
        else:
            h, c = (hx[0], hx[1]) if batched else (hx[0][None], hx[1][None])
        b = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        h, c = _lstm_step(x, h, c, self.weight_ih, self.weight_hh, b)
        return (h, c) if batched else (h[0], c[0])


class GRUCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        k = hidden_size ** -0.5
        self.hidden_size = hidden_size
        self.weight_ih = _uniform((3 * hidden_size, input_size), k)
        self.weight_hh = _uniform((3 * hidden_size, hidden_size), k)
        if bias:
            self.bias_ih = _uniform((3 * hidden_size,), k)
            self.bias_hh = _uniform((3 * hidden_size,), k)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def forward(self, input, hx=None):
        batched = input.ndim == 2
        x = input if batched else input[None]
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx if batched else hx[None])
        h = _gru_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h[0]


class _Layers(nn.Module):
    def __init__(self, gates, input_size, hidden_size, num_layers, bias, batch_first, bidirectional):
        super().__init__()
        self.H, self.L, self.D = hidden_size, num_layers, 2 if bidirectional else 1
        self.batch_first, self.has_bias = batch_first, bias
        k = hidden_size ** -0.5
        for layer in range(num_layers):
            for d in range(self.D):
                s = f"l{layer}{'_reverse' if d else ''}"
                fan_in = input_size if layer == 0 else self.D * hidden_size
                self.register_parameter(f"weight_ih_{s}", _uniform((gates * hidden_size, fan_in), k))
                self.register_parameter(f"weight_hh_{s}", _uniform((gates * hidden_size, hidden_size), k))
                if bias:
                    self.register_parameter(f"bias_ih_{s}", _uniform((gates * hidden_size,), k))
                    self.register_parameter(f"bias_hh_{s}", _uniform((gates * hidden_size,), k))

    def params(self, layer, d):
        s = f"l{layer}{'_reverse' if d else ''}"
        g = lambda n: getattr(self, f"{n}_{s}") if hasattr(self, f"{n}_{s}") else None  # noqa: E731
        return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh")

    def layout_in(self, input, states, n):
        unbatched = input.ndim == 2
        if unbatched:
            x = input[:, None]
            states = None if states is None else [s[:, None] for s in states]
        else:
            x = input.permute(1, 0, 2) if self.batch_first else input
        if states is None:
            states = [x.new_zeros(self.L * self.D, x.shape[1], self.H) for _ in range(n)]
        return x, states, unbatched

    def layout_out(self, out, finals, unbatched):
        if unbatched:
            return out[:, 0], [f[:, 0] for f in finals]
        return (out.permute(1, 0, 2) if self.batch_first else out), finals

    def run(self, x, states, step):
        T, B = x.shape[0], x.shape[1]
        finals = [[None] * (self.L * self.D) for _ in states]
        for layer in range(self.L):
            out = x.new_empty(T, B, self.D * self.H)
            for d in range(self.D):
                k = layer * self.D + d
                cur = [s[k] for s in states]
                order = range(T - 1, -1, -1) if d else range(T)
                for t in order:
                    cur = step(x[t], cur, self.params(layer, d))
                    out[t, :, d * self.H:(d + 1) * self.H] = cur[0]
                for j, s in enumerate(cur):
                    finals[j][k] = s
            x = out
        return x, [torch.stack(f) for f in finals]


class LSTM(_Layers):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__(4, input_size, hidden_size, num_layers, bias, batch_first, bidirectional)

    def forward(self, input, hx=None):
        x, states, unbatched = self.layout_in(input, None if hx is None else list(hx), 2)

        def step(xt, cur, p):
            w_ih, w_hh, b_ih, b_hh = p
            return list(_lstm_step(xt, cur[0], cur[1], w_ih, w_hh, None if b_ih is None else b_ih + b_hh))

        out, finals = self.run(x, states, step)
        out, (h, c) = self.layout_out(out, finals, unbatched)
        return out, (h, c)


class GRU(_Layers):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, bidirectional=False):
        super().__init__(3, input_size, hidden_size, num_layers, bias, batch_first, bidirectional)

    def forward(self, input, hx=None):
        x, states, unbatched = self.layout_in(input, None if hx is None else [hx], 1)
        out, finals = self.run(x, states, lambda xt, cur, p: [_gru_step(xt, cur[0], *p)])
        out, (h,) = self.layout_out(out, finals, unbatched)
        return out, h
