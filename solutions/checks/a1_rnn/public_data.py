"""Expected outputs for the public a1_rnn checks: `build(ref)` -> {file name: tensors}.

`seqgrade release` calls it and writes assignments/a1_rnn/checks/data/. Fixed
seeds and float64, so the files are the same on every run.
"""

from __future__ import annotations

import torch


def build(ref) -> dict[str, dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(20261001)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    T, B, I, H = 5, 3, 4, 6  # distinct, small
    x, h0 = randn(T, B, I), randn(B, H)
    w_ih, w_hh, b = randn(H, I, scale=0.4), randn(H, H, scale=0.4), randn(H, scale=0.4)
    G = randn(T, B, H)
    leaves = [t.clone().requires_grad_() for t in (x, h0, w_ih, w_hh, b)]
    hs, cache = ref.rnn_forward(*leaves)
    autograd = torch.autograd.grad(hs, leaves, G)  # the expected gradients come from autograd...
    manual = ref.rnn_backward(G, cache)  # ...and the reference's BPTT must agree with them
    for a, m in zip(autograd, manual):
        torch.testing.assert_close(a, m, rtol=1e-10, atol=1e-12)
    names = ("dx", "dh0", "dweight_ih", "dweight_hh", "dbias")
    tensors = {"x": x, "h0": h0, "weight_ih": w_ih, "weight_hh": w_hh, "bias": b, "grad_hs": G,
               "hs": hs.detach()}
    tensors.update({n: t.detach() for n, t in zip(names, autograd)})
    return {"rnn_bptt.safetensors": {k: v.contiguous() for k, v in tensors.items()}}
