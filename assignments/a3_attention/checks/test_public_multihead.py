"""Public checks of a3_attention: MultiHeadAttention against torch.nn.MultiheadAttention.

The parameters have torch's names and layout, so torch's state_dict loads into the
submission. torch's boolean masks mean True = NOT allowed (the opposite of the course),
and it takes a [B,L,S] mask as [B*heads,L,S] and key padding as a separate [B,S] mask, so
the masks are converted before calling torch.
"""

import torch

from grader.checks import assert_close, check, expect_tuple

F64 = torch.float64


def _random_mask(d, *shape):
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    return m.scatter(-1, idx, True).scatter(-1, (idx + 1) % shape[-1], False)


def _cases(d):
    nh, hd = d.distinct(2, 2, 4)
    E = nh * hd
    B, L, S = d.distinct(3, 2, 6)
    torch_mha = torch.nn.MultiheadAttention(E, nh, batch_first=True, dtype=F64)
    state = d.perturb_state(torch_mha, 0.5)
    torch_mha.load_state_dict(state)
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, E)
    x = d.randn(B, L, E)
    m_ls = _random_mask(d, L, S)
    m_bls = _random_mask(d, B, L, S)
    m_pad = _random_mask(d, B, 1, S)
    causal = torch.ones(L, L, dtype=torch.bool).tril()
    cases = [
        # (what, args, course kwargs, torch kwargs)
        ("no mask", (q, k, v), {}, {}),
        ("attn_mask [L,S]", (q, k, v), dict(attn_mask=m_ls), dict(attn_mask=~m_ls)),
        ("attn_mask [B,L,S]", (q, k, v), dict(attn_mask=m_bls), dict(attn_mask=(~m_bls).repeat_interleave(nh, 0))),
        ("a key padding mask [B,1,S]", (q, k, v), dict(attn_mask=m_pad), dict(key_padding_mask=~m_pad[:, 0])),
        ("is_causal=True (self-attention)", (x, x, x), dict(is_causal=True), dict(attn_mask=~causal)),
    ]
    out = []
    with torch.no_grad():
        for what, args, kw, tkw in cases:
            o, w = torch_mha(*args, need_weights=True, average_attn_weights=False, **tkw)
            out.append((what, args, kw, o, w))
    return dict(E=E, nh=nh, state=state, cases=out)


@check(points=1.5, description="MultiHeadAttention equals torch.nn.MultiheadAttention(batch_first=True)",
       kind="values", promises=("mha.forward", "mha.params"),
       targets=("MultiHeadAttention",))
def test_public_mha_matches_torch(sub, once):
    c = once(_cases)
    m = sub.build("MultiHeadAttention", c["state"], embed_dim=c["E"], num_heads=c["nh"], dtype=F64)
    for what, args, kw, out, w in c["cases"]:
        got = expect_tuple(sub.call(m, *args, **kw).value, f"MultiHeadAttention with {what}", 2)
        assert_close(got[1], w, f"MultiHeadAttention with {what}: per-head weights [B,heads,L,S]")
        assert_close(got[0], out, f"MultiHeadAttention with {what}: output")
