"""Public checks of a3_attention: scaled dot-product attention against torch, and properties.

torch's ``F.scaled_dot_product_attention`` uses the course's mask convention for boolean
masks (True = may attend). It does not return the weights, but attending over the
identity matrix as values gives them: ``F.scaled_dot_product_attention(q, k, I) = weights``.
"""

import torch
import torch.nn.functional as F

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail
from grader.checks.parallel import counted_ops

F64, F32 = torch.float64, torch.float32


def _torch_sdpa(q, k, v, mask=None, is_causal=False, scale=None):
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale)
    eye = torch.eye(k.size(-2), dtype=q.dtype).expand(*k.shape[:-1], k.size(-2))
    w = F.scaled_dot_product_attention(q, k, eye, attn_mask=mask, is_causal=is_causal, scale=scale)
    # torch before 2.5 gives NaN for a fully masked row; the course (and torch 2.13) give 0
    return torch.nan_to_num(out, nan=0.0), torch.nan_to_num(w, nan=0.0)


def _random_mask(d, *shape):
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    return m.scatter(-1, idx, True).scatter(-1, (idx + 1) % shape[-1], False)


def _sdpa_cases(d):
    E, Ev = d.distinct(2, 2, 8)
    B, L, S = d.distinct(3, 2, 7)
    h = d.int(2, 3)
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)
    cases = [
        ("no mask", (q, k, v), {}),
        ("[B,heads,L,E] inputs", (d.randn(B, h, L, E), d.randn(B, h, S, E), d.randn(B, h, S, Ev)), {}),
        ("a bool mask [B,L,S] (True = may attend)", (q, k, v), dict(attn_mask=_random_mask(d, B, L, S))),
        ("a key padding mask [B,1,S]", (q, k, v), dict(attn_mask=_random_mask(d, B, 1, S))),
        ("a float mask [L,S] (added to the scores)", (q, k, v), dict(attn_mask=d.randn(L, S))),
        ("is_causal=True", (q, d.randn(B, L, E), d.randn(B, L, Ev)), dict(is_causal=True)),
    ]
    return [(what, args, kw, _torch_sdpa(*args, mask=kw.get("attn_mask"), is_causal=kw.get("is_causal", False)))
            for what, args, kw in cases]


@check(points=1.5, description="scaled_dot_product_attention equals torch's F.scaled_dot_product_attention",
       kind="values", promises=("sdpa.math", "mask.bool"),
       targets=("scaled_dot_product_attention",))
def test_public_sdpa_matches_torch(sub, once):
    for what, args, kw, (out, w) in once(_sdpa_cases):
        got = expect_tuple(sub.call("scaled_dot_product_attention", *args, **kw).value,
                           "scaled_dot_product_attention must return (output, weights); with " + what, 2)
        assert_close(got[1], w, f"scaled_dot_product_attention with {what}: weights")
        assert_close(got[0], out, f"scaled_dot_product_attention with {what}: output")


def _dot_cases(d):
    E, dv = d.distinct(2, 2, 8)
    B, Q, K = d.distinct(3, 2, 7)
    q, k, v = d.randn(B, Q, E), d.randn(B, K, E), d.randn(B, K, dv)
    mask = _random_mask(d, B, Q, K)
    return [(scaled, (q, k, v, mask), _torch_sdpa(q, k, v, mask, scale=None if scaled else 1.0))
            for scaled in (False, True)]


@check(points=0.5,
       description="DotProductAttention (scaled and not) equals torch's attention with scale 1 or 1/sqrt(d)",
       kind="values", promises=("dot.math",),
       targets=("DotProductAttention",))
def test_public_dot_product_matches_torch(sub, once):
    for scaled, args, (out, w) in once(_dot_cases):
        m = sub.new("DotProductAttention", scaled=scaled, dtype=F64)
        got = expect_tuple(sub.call(m, *args).value, f"DotProductAttention(scaled={scaled})", 2)
        assert_close(got[1], w, f"DotProductAttention(scaled={scaled}): weights")
        assert_close(got[0], out, f"DotProductAttention(scaled={scaled}): context")


@check(points=1, description="every query's weights sum to 1 over the keys (softmax over the last dimension)",
       kind="properties", promises=("attn.shapes",),
       targets=("AdditiveAttention", "DotProductAttention", "GeneralAttention", "scaled_dot_product_attention"))
def test_public_weights_sum_to_one(sub, draw):
    dq, dk, dv, hs = draw.distinct(4, 2, 8)
    B, Q, K = draw.distinct(3, 2, 7)
    q, k, v = draw.randn(B, Q, dq), draw.randn(B, K, dk), draw.randn(B, K, dv)
    calls = {
        "AdditiveAttention": (sub.new("AdditiveAttention", query_size=dq, key_size=dk, hidden_size=hs, dtype=F64),
                              (q, k, v)),
        "GeneralAttention": (sub.new("GeneralAttention", query_size=dq, key_size=dk, dtype=F64), (q, k, v)),
        "scaled_dot_product_attention": ("scaled_dot_product_attention", (q, draw.randn(B, K, dq), v)),
    }
    for what, (target, args) in calls.items():
        _, w = expect_tuple(sub.call(target, *args).value, what, 2)
        expect_tensor(w, what + ": weights", (B, Q, K))
        if torch.allclose(w.sum(-1), torch.ones(B, Q, dtype=F64)):
            continue
        if torch.allclose(w.sum(-2), torch.ones(B, K, dtype=F64)):
            fail(f"{what}: the weights sum to 1 over the queries instead of the keys: check the softmax dimension "
                 "(the last one, the keys)")
        fail(f"{what}: the weights of a query do not sum to 1 over the keys")


@check(points=1, description="a fully masked query row gives weights 0 and output 0, not NaN",
       kind="masks", promises=("mask.fully-masked",),
       targets=("scaled_dot_product_attention",))
def test_public_fully_masked_row(sub, draw):
    E, Ev = draw.distinct(2, 2, 6)
    B, L, S = draw.distinct(3, 3, 7)
    q, k, v = draw.randn(B, L, E), draw.randn(B, S, E), draw.randn(B, S, Ev)
    mask = _random_mask(draw, B, L, S)
    mask[0, 1] = False
    out, w = _torch_sdpa(q, k, v, mask)
    got = expect_tuple(sub.call("scaled_dot_product_attention", q, k, v, attn_mask=mask).value,
                       "scaled_dot_product_attention", 2)
    for t, name in ((got[1], "weights"), (got[0], "output")):
        expect_tensor(t, name, None, F64)
        if torch.isnan(t).any():
            fail(f"scaled_dot_product_attention: the {name} of a query whose keys are all masked are NaN; such a "
                 "row must give weights 0 and output 0 (replace its scores by 0 before the softmax and its "
                 "weights by 0 after)")
    assert_close(got[1], w, "scaled_dot_product_attention with a fully masked row: weights")
    assert_close(got[0], out, "scaled_dot_product_attention with a fully masked row: output")


@check(points=0.5, description="causal_mask(L, S) is True exactly where key j <= query i",
       kind="values", promises=("causal-mask.values",),
       targets=("causal_mask",))
def test_public_causal_mask(sub, draw):
    L, S = draw.distinct(2, 2, 9)
    for args in ((L,), (L, S)):
        rows, cols = args[0], args[-1]
        got = expect_tensor(sub.call("causal_mask", *args).value, f"causal_mask{args}", (rows, cols), torch.bool)
        want = torch.arange(cols)[None, :] <= torch.arange(rows)[:, None]
        if not torch.equal(got, want):
            i, j = (int(x) for x in (got != want).nonzero()[0])
            fail(f"causal_mask{args}: query {i} and key {j}: got {bool(got[i, j])}, expected {bool(want[i, j])} "
                 "(query i may attend key j iff j <= i)")


@check(points=1, description="attention processes all positions and heads at once (no Python loop over them)",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("scaled_dot_product_attention", "MultiHeadAttention"))
def test_public_parallelism(sub, draw):
    E = 12
    counts = {}
    for L in (3, 11):
        q, k, v = draw.randn(2, L, 4, dtype=F32), draw.randn(2, L + 1, 4, dtype=F32), draw.randn(2, L + 1, 3, dtype=F32)
        counts[L] = counted_ops(sub, "scaled_dot_product_attention", q, k, v,
                                expected=_torch_sdpa(q.double(), k.double(), v.double()),
                                what="scaled_dot_product_attention")
    if counts[3] != counts[11]:
        fail(f"scaled_dot_product_attention: the number of tensor operations grows with the sequence length: do not "
             f"loop over positions ({counts[3]} operations for L=3, {counts[11]} for L=11)")
    heads = {}
    for nh in (2, 3):
        torch_mha = torch.nn.MultiheadAttention(E, nh, batch_first=True).double()
        state = {k: v.float() for k, v in torch_mha.state_dict().items()}
        m = sub.build("MultiHeadAttention", state, embed_dim=E, num_heads=nh, dtype=F32)
        x = draw.randn(2, 3, E, dtype=F32)
        out, _ = torch_mha(x.double(), x.double(), x.double(), average_attn_weights=False)
        heads[nh] = counted_ops(sub, m, x, x, x, expected=(out,), what="MultiHeadAttention")
    if heads[2] != heads[3]:
        fail(f"MultiHeadAttention: the number of tensor operations grows with the number of heads: do not loop over "
             f"heads ({heads[2]} operations with 2 heads, {heads[3]} with 3)")
