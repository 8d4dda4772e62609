"""Hidden checks of a5_transformer: gradients w.r.t. inputs and every parameter equal the reference's.

This catches what values cannot: .detach()/.data/no_grad cutting the graph, in-place
writes into leaves, and an embedding without padding_idx=0 (its pad row gets a gradient).
"""

from types import SimpleNamespace

import torch

from grader.checks import assert_grad_close, check, fail
from grader.sandbox.wire import GradInput

F64 = torch.float64


def _module(ref, d, name, *args, scale=0.5):
    m = getattr(ref, name)(*args).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    return m, state


def _ragged(d, B, L, V, first=None):
    tokens = d.randint(1, V, (B, L))
    if first is not None:
        tokens[:, 0] = first
    lengths = [L] + [d.int(2, L - 1) for _ in range(B - 1)]
    return tokens.masked_fill(torch.arange(L)[None, :] >= torch.tensor(lengths)[:, None], 0)


def _transformer(d, ref):
    nh = 2
    E = nh * d.int(2, 3)
    Vs, Vt = d.distinct(2, 6, 10)
    B, S, T = d.distinct(3, 3, 6)
    args = (Vs, Vt, E, nh, 1, 2, d.int(3, 7))
    m, state = _module(ref, d, "Transformer", *args)
    src, tgt = _ragged(d, B, S, Vs), _ragged(d, B, T, Vt, first=1)
    out = m(src, tgt)
    g = d.randn(*out.shape)
    (out * g).sum().backward()
    return SimpleNamespace(args=args, state=state, src=src, tgt=tgt, g=g,
                           grads={n: p.grad.clone() for n, p in m.named_parameters()})


@check(points=2, description="Transformer: gradients of the logits w.r.t. every parameter (embeddings included)",
       kind="gradients", promises=("transformer.forward", "embedding.padding-idx"),
       targets=("Transformer",))
def test_transformer_gradients(sub, ref, once):
    c = once(lambda d: _transformer(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    r = sub.call(m, c.src, c.tgt, backward=c.g)
    for name, exp in c.grads.items():
        got = r.param_grads.get(name)
        if name.endswith("_embed.weight") and got is not None and got.shape == exp.shape and got[0].abs().max() > 0:
            fail(f"d loss / d {name}: the padding row (token 0) gets a gradient: create the embedding with "
                 "padding_idx=0")
        assert_grad_close(got, exp, f"Transformer: d loss / d {name}")


def _layers(d, ref):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.int(3, 7)
    B, T, S = d.distinct(3, 2, 6)
    enc, enc_state = _module(ref, d, "TransformerEncoderLayer", E, nh, ff)
    dec, dec_state = _module(ref, d, "TransformerDecoderLayer", E, nh, ff)
    lengths = torch.tensor([S] + [d.int(1, S) for _ in range(B - 1)])
    pad = (torch.arange(S)[None, :] < lengths[:, None]).unsqueeze(1)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    x, mem, y = d.randn(B, S, E), d.randn(B, S, E), d.randn(B, T, E)
    cases = []
    for name, module, state, inputs, kwargs, names in (
            ("TransformerEncoderLayer", enc, enc_state, (x,), dict(src_mask=pad), ("src",)),
            ("TransformerDecoderLayer", dec, dec_state, (y, mem), dict(tgt_mask=causal, memory_mask=pad),
             ("tgt", "memory"))):
        leaves = [t.clone().requires_grad_(True) for t in inputs]
        out = module(*leaves, **kwargs)
        g = d.randn(*out.shape)
        (out * g).sum().backward()
        cases.append(SimpleNamespace(name=name, args=(E, nh, ff), state=state, inputs=inputs, kwargs=kwargs,
                                     names=names, g=g, in_grads=[t.grad for t in leaves],
                                     grads={n: p.grad.clone() for n, p in module.named_parameters()}))
    return cases


@check(points=1, description="encoder and decoder layers: gradients w.r.t. their inputs and every parameter",
       kind="gradients", promises=("enc-layer.math", "dec-layer.math"),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer"))
def test_layer_gradients(sub, ref, once):
    for c in once(lambda d: _layers(d, ref)):
        m = sub.build(c.name, c.state, *c.args, dtype=F64)
        r = sub.call(m, *(GradInput(t) for t in c.inputs), **c.kwargs, backward=c.g)
        for n, got, exp in zip(c.names, r.input_grads, c.in_grads):
            assert_grad_close(got, exp, f"{c.name}: d loss / d {n}")
        for n, exp in c.grads.items():
            assert_grad_close(r.param_grads.get(n), exp, f"{c.name}: d loss / d {n}")
