"""Hidden checks of a3_attention: long sequences (L = S >= 2048) and huge scores.

Outputs and gradients must stay finite and equal to the reference; scores of magnitude
1e4 must not overflow the softmax (exp(1e4) is inf even in float64: subtract the row
maximum, as torch.softmax does).
"""

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail
from grader.sandbox.wire import GradInput

F32, F64 = torch.float32, torch.float64


def _finite(t, what):
    expect_tensor(t, what)
    if not torch.isfinite(t).all():
        idx = tuple(int(i) for i in (~torch.isfinite(t)).nonzero()[0])
        fail(f"{what}: contains NaN or inf (first at index {idx}) on a long sequence: subtract the row maximum "
             "before exp (torch.softmax does) and never divide by a sum that can be 0")


def _long_sdpa(d, ref):
    L = d.int(2048, 2100)
    E, Ev = d.int(2, 3), d.int(2, 3)
    q, k, v = d.randn(1, L, E, dtype=F32), d.randn(1, L, E, dtype=F32), d.randn(1, L, Ev, dtype=F32)
    n_pad = d.int(1, 64)
    mask = (torch.arange(L) < L - n_pad).view(1, 1, L)
    leaves = [x.clone().requires_grad_(True) for x in (q, k, v)]
    out, w = ref.scaled_dot_product_attention(*leaves, attn_mask=mask, is_causal=True)
    g = d.randn(1, L, Ev, dtype=F32)
    (out * g).sum().backward()
    return SimpleNamespace(args=(q, k, v), mask=mask, g=g, out=out.detach(), grads=[x.grad for x in leaves], L=L)


@check(points=1, timeout=30, description="scaled_dot_product_attention on L = S >= 2048: finite values and gradients",
       kind="long_sequence", promises=("sdpa.math", "sdpa.mask-and-causal"),
       targets=("scaled_dot_product_attention",))
def test_sdpa_long_sequence(sub, ref, once):
    c = once(lambda d: _long_sdpa(d, ref))
    r = sub.call("scaled_dot_product_attention", *(GradInput(a) for a in c.args), attn_mask=c.mask, is_causal=True,
                 backward=(c.g, None))
    out, w = expect_tuple(r.value, "scaled_dot_product_attention (output, weights)", 2)
    what = f"scaled_dot_product_attention with L = S = {c.L} (is_causal and padding)"
    _finite(out, what + ": output")
    _finite(w, what + ": weights")
    assert_close(out, c.out, what + ": output")
    for name, got, exp in zip(("query", "key", "value"), r.input_grads, c.grads):
        if got is not None:
            _finite(got, f"{what}: d loss / d {name}")
        assert_grad_close(got, exp, f"{what}: d loss / d {name}", rtol=1e-3, atol=1e-4)


def _long_mha(d, ref):
    L = d.int(2048, 2100)
    nh = 1  # one head keeps the [B, heads, L, S] weights (sent back) at 16 MB
    E = 3
    m = ref.MultiHeadAttention(E, nh)
    state = d.perturb_state(m, 0.5)
    m.load_state_dict(state)
    x = d.randn(1, L, E, dtype=F32)
    with torch.no_grad():
        out, _ = m(x, x, x, is_causal=True)
    return SimpleNamespace(kwargs=dict(embed_dim=E, num_heads=nh), state=state, x=x, out=out, L=L)


@check(points=1, timeout=30, description="MultiHeadAttention on L = S >= 2048: finite and equal to the reference",
       kind="long_sequence", promises=("mha.forward",),
       targets=("MultiHeadAttention",))
def test_mha_long_sequence(sub, ref, once):
    c = once(lambda d: _long_mha(d, ref))
    m = sub.build("MultiHeadAttention", c.state, **c.kwargs, dtype=F32)
    out, w = expect_tuple(sub.call(m, c.x, c.x, c.x, is_causal=True).value, "MultiHeadAttention", 2)
    what = f"MultiHeadAttention self-attention with L = S = {c.L} (is_causal)"
    _finite(out, what + ": output")
    _finite(w, what + ": weights")
    assert_close(out, c.out, what + ": output")


def _large(d, ref):
    E, Ev = d.distinct(2, 2, 6)
    B, L, S = d.distinct(3, 2, 7)
    # queries and keys of size ~ 10^2 so that q . k is of the order of 1e4
    q = d.randn(B, L, E) * 100.0
    k = d.randn(B, S, E) * 100.0
    v = d.randn(B, S, Ev)
    exp = ref.scaled_dot_product_attention(q, k, v)
    exp_dot = ref.DotProductAttention(scaled=False)(q, k, v)
    scale = float((q @ k.transpose(-2, -1)).abs().max())
    modules = []
    dq, dk, hs = d.distinct(3, 2, 6)
    nh = d.int(1, 2)
    for name, kwargs, big in (("GeneralAttention", dict(query_size=dq, key_size=dk), "W.weight"),
                              ("AdditiveAttention", dict(query_size=dq, key_size=dk, hidden_size=hs), "w_v.weight"),
                              ("MultiHeadAttention", dict(embed_dim=2 * nh, num_heads=nh), "in_proj_weight")):
        m = getattr(ref, name)(**kwargs).double()
        state = d.perturb_state(m, 0.5)
        state[big] = state[big] * {"W.weight": 1000.0, "w_v.weight": 3000.0, "in_proj_weight": 100.0}[big]
        m.load_state_dict(state)
        qs, ks = (2 * nh, 2 * nh) if name == "MultiHeadAttention" else (dq, dk)
        args = (d.randn(B, L, qs), d.randn(B, S, ks), d.randn(B, S, qs if name == "MultiHeadAttention" else E))
        with torch.no_grad():
            exp_m = m(*args)
        modules.append(SimpleNamespace(name=name, kwargs=kwargs, state=state, args=args, exp=exp_m))
    return SimpleNamespace(q=q, k=k, v=v, exp=exp, exp_dot=exp_dot, scale=scale, E=E, modules=modules)


@check(points=1, description="scores of magnitude 1e3 to 1e4 do not overflow the softmax (float64 and float32; "
                             "every attention)",
       kind="values", promises=("numerics.large-scores",),
       targets=("scaled_dot_product_attention", "DotProductAttention", "GeneralAttention", "AdditiveAttention",
                "MultiHeadAttention"))
def test_large_scores(sub, ref, once):
    c = once(lambda d: _large(d, ref))
    cases = (("scaled_dot_product_attention", None, c.exp),
             ("DotProductAttention(scaled=False)", sub.new("DotProductAttention", scaled=False), c.exp_dot))
    for what, target, exp in cases:
        what = f"{what} with scores up to {c.scale:.3g}"
        for dtype in (F64, F32):
            args = (c.q.to(dtype), c.k.to(dtype), c.v.to(dtype))
            got = sub.call(target or "scaled_dot_product_attention", *args).value
            out, w = expect_tuple(got, what, 2)
            tag = f"{what} ({str(dtype).replace('torch.', '')})"
            _finite(w, tag + ": weights")
            _finite(out, tag + ": context")
            if dtype == F64:
                assert_close(w, exp[1], tag + ": weights")
                assert_close(out, exp[0], tag + ": context")
            elif not torch.allclose(w.sum(-1), torch.ones(w.shape[:-1], dtype=dtype), atol=1e-4):
                fail(f"{tag}: the weights of a query do not sum to 1")
    for m in c.modules:
        what = f"{m.name} with weights that give scores of magnitude 1e3 to 1e4"
        handle = sub.build(m.name, m.state, **m.kwargs, dtype=F64)
        out, w = expect_tuple(sub.call(handle, *m.args).value, what, 2)
        _finite(w, what + ": weights")
        _finite(out, what + ": output")
        assert_close(w, m.exp[1], what + ": weights")
        assert_close(out, m.exp[0], what + ": output")
