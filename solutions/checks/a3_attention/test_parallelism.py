"""Hidden checks of a3_attention: all positions, heads and batch items are processed at once.

The sandbox counts the tensor operations (aten calls) executed during one forward call.
Without a Python loop over positions, heads or batch items, that number does not depend
on the sequence lengths, the number of heads or the batch size. Every size is >= 2 (a
dimension of size 1 can make a reshape free, which changes the count legitimately).
"""

import torch

from grader.checks import check, fail
from grader.checks.parallel import counted_ops

F32 = torch.float32

WHY = {
    "length": "the number of tensor operations grows with the sequence length: do not loop over positions "
              "(compute every query's scores at once with a batched matrix product)",
    "batch": "the number of tensor operations grows with the batch size: do not loop over batch items "
             "(matmul and softmax work on batched tensors)",
    "heads": "the number of tensor operations grows with the number of heads: do not loop over heads "
             "(reshape [B,L,E] to [B,heads,L,d] and attend for every head at once)",
}


def _mask(B, L, S):
    m = torch.ones(B, L, S, dtype=torch.bool)
    m[:, :, -1] = False
    return m


def _compare(what, counts):
    """counts: {(label, description): n_ops}; the first entry is the base configuration."""
    (base_label, base_desc), base = next(iter(counts.items()))
    if base is None:
        fail(f"{what}: the operations could not be counted")
    for (label, desc), n in counts.items():
        if n != base:
            fail(f"{what}: {WHY[label]} ({base} operations for {base_desc}, {n} for {desc})")


@check(points=1.5, description="scaled_dot_product_attention: no loop over positions or batch items",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("scaled_dot_product_attention",))
def test_sdpa_parallel(sub, ref, draw):
    E, Ev = draw.distinct(2, 2, 5)
    B, L, S = 2, 3, 4
    L2, S2 = draw.int(9, 14), draw.int(9, 14)
    B2 = draw.int(5, 8)

    def count(B, L, S):
        q, k, v = draw.randn(B, L, E, dtype=F32), draw.randn(B, S, E, dtype=F32), draw.randn(B, S, Ev, dtype=F32)
        mask = _mask(B, L, S)
        expected = ref.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
        return counted_ops(sub, "scaled_dot_product_attention", q, k, v, attn_mask=mask, expected=expected,
                           what="scaled_dot_product_attention")

    counts = {("base", f"B={B}, L={L}, S={S}"): count(B, L, S),
              ("length", f"B={B}, L={L2}, S={S2}"): count(B, L2, S2),
              ("batch", f"B={B2}, L={L}, S={S}"): count(B2, L, S)}
    _compare("scaled_dot_product_attention", counts)


@check(points=1.5, description="MultiHeadAttention: no loop over positions, heads or batch items",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("MultiHeadAttention",))
def test_mha_parallel(sub, ref, draw):
    hd = draw.int(2, 4)
    nh1, nh2 = 2, draw.int(3, 4)
    B, L, S = 2, 3, 4
    L2, S2 = draw.int(9, 14), draw.int(9, 14)
    B2 = draw.int(5, 8)
    E = hd * nh1 * nh2
    mods = {}
    for nh in (nh1, nh2):
        r = ref.MultiHeadAttention(embed_dim=E, num_heads=nh).double()
        state = draw.perturb_state(r)
        r.load_state_dict(state)
        mods[nh] = (r, sub.build("MultiHeadAttention", {k: v.float() for k, v in state.items()},
                                 embed_dim=E, num_heads=nh, dtype=F32))

    def count(nh, B, L, S):
        r, m = mods[nh]
        q, kv = draw.randn(B, L, E, dtype=F32), draw.randn(B, S, E, dtype=F32)
        mask = _mask(B, L, S)
        expected = r(q.double(), kv.double(), kv.double(), attn_mask=mask)
        return counted_ops(sub, m, q, kv, kv, attn_mask=mask, expected=expected, what="MultiHeadAttention")

    counts = {("base", f"{nh1} heads, B={B}, L={L}, S={S}"): count(nh1, B, L, S),
              ("length", f"{nh1} heads, B={B}, L={L2}, S={S2}"): count(nh1, B, L2, S2),
              ("batch", f"{nh1} heads, B={B2}, L={L}, S={S}"): count(nh1, B2, L, S),
              ("heads", f"{nh2} heads, B={B}, L={L}, S={S}"): count(nh2, B, L, S)}
    _compare("MultiHeadAttention", counts)


@check(points=0.5, description="Additive, Dot-product and General attention: no loop over positions or batch items",
       kind="parallelism", promises=("parallel.no-loop",),
       targets=("AdditiveAttention", "DotProductAttention", "GeneralAttention"))
def test_attention_modules_parallel(sub, ref, draw):
    dq, dk, dv, hs = draw.distinct(4, 2, 6)
    B, Q, K = 2, 3, 4
    Q2, K2, B2 = draw.int(9, 14), draw.int(9, 14), draw.int(5, 8)
    specs = {
        "AdditiveAttention": ("AdditiveAttention", dict(query_size=dq, key_size=dk, hidden_size=hs), dk),
        "GeneralAttention": ("GeneralAttention", dict(query_size=dq, key_size=dk), dk),
        "DotProductAttention(scaled=True)": ("DotProductAttention", dict(scaled=True), dq),
    }
    for what, (name, kwargs, kd) in specs.items():
        r = getattr(ref, name)(**kwargs).double()
        state = draw.perturb_state(r)
        r.load_state_dict(state)
        m = sub.build(name, {k: v.float() for k, v in state.items()}, **kwargs, dtype=F32)

        def count(B, Q, K):
            q, k, v = draw.randn(B, Q, dq, dtype=F32), draw.randn(B, K, kd, dtype=F32), draw.randn(B, K, dv, dtype=F32)
            mask = _mask(B, Q, K)
            expected = r(q.double(), k.double(), v.double(), mask)
            return counted_ops(sub, m, q, k, v, mask, expected=expected, what=what)

        counts = {("base", f"B={B}, Q={Q}, K={K}"): count(B, Q, K),
                  ("length", f"B={B}, Q={Q2}, K={K2}"): count(B, Q2, K2),
                  ("batch", f"B={B2}, Q={Q}, K={K}"): count(B2, Q, K)}
        _compare(what, counts)
