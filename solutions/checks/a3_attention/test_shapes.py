"""Hidden checks of a3_attention: output types, shapes and dtypes, parameter names and shapes."""

import pytest
import torch

from grader.checks import check, expect_tensor, expect_tuple, fail

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _pair(value, what, ctx_shape, w_shape, dtype):
    ctx, w = expect_tuple(value, what + " must return (context, weights)", 2)
    expect_tensor(ctx, what + ": context", ctx_shape, dtype)
    expect_tensor(w, what + ": weights", w_shape, dtype)


@pytest.mark.parametrize("dt", list(DTYPES))
@check(points=0.5,
       description="attention modules and scaled_dot_product_attention: shapes and dtypes, batch 1 and more",
       kind="shapes", promises=("attn.shapes", "batch.any", "dtype.float32-float64", "device.cpu-cuda"),
       targets=("AdditiveAttention", "GeneralAttention", "DotProductAttention", "scaled_dot_product_attention"))
def test_attention_shapes(sub, draw, dt):
    dtype = DTYPES[dt]
    dq, dk, dv, hs = draw.distinct(4, 2, 9)
    Q, K = draw.distinct(2, 2, 7)
    for B in (1, draw.int(2, 5)):
        q, k, v = (draw.randn(B, Q, dq, dtype=dtype), draw.randn(B, K, dk, dtype=dtype),
                   draw.randn(B, K, dv, dtype=dtype))
        m = sub.new("AdditiveAttention", query_size=dq, key_size=dk, hidden_size=hs, dtype=dtype)
        _pair(sub.call(m, q, k, v).value, f"AdditiveAttention (B={B}, {dt})", (B, Q, dv), (B, Q, K), dtype)
        m = sub.new("GeneralAttention", query_size=dq, key_size=dk, dtype=dtype)
        _pair(sub.call(m, q, k, v).value, f"GeneralAttention (B={B}, {dt})", (B, Q, dv), (B, Q, K), dtype)
        kq = draw.randn(B, K, dq, dtype=dtype)
        for scaled in (False, True):
            m = sub.new("DotProductAttention", scaled=scaled, dtype=dtype)
            _pair(sub.call(m, q, kq, v).value, f"DotProductAttention(scaled={scaled}) (B={B}, {dt})",
                  (B, Q, dv), (B, Q, K), dtype)
        _pair(sub.call("scaled_dot_product_attention", q, kq, v).value,
              f"scaled_dot_product_attention (B={B}, {dt})", (B, Q, dv), (B, Q, K), dtype)
        h = draw.int(2, 3)
        _pair(sub.call("scaled_dot_product_attention", q.unsqueeze(1).expand(B, h, Q, dq),
                       kq.unsqueeze(1).expand(B, h, K, dq), v.unsqueeze(1).expand(B, h, K, dv)).value,
              f"scaled_dot_product_attention on [B,heads,L,E] (B={B}, {dt})", (B, h, Q, dv), (B, h, Q, K), dtype)


@pytest.mark.parametrize("dt", list(DTYPES))
@check(points=0.5, description="MultiHeadAttention: output [B,L,E] and weights [B,heads,L,S], batch 1 and more",
       kind="shapes", promises=("mha.forward", "batch.any", "dtype.float32-float64"),
       targets=("MultiHeadAttention",))
def test_mha_shapes(sub, draw, dt):
    dtype = DTYPES[dt]
    nh, hd = draw.distinct(2, 2, 4)
    E = nh * hd
    L, S = draw.distinct(2, 2, 7)
    m = sub.new("MultiHeadAttention", embed_dim=E, num_heads=nh, dtype=dtype)
    for B in (1, draw.int(2, 5)):
        q, kv = draw.randn(B, L, E, dtype=dtype), draw.randn(B, S, E, dtype=dtype)
        _pair(sub.call(m, q, kv, kv).value, f"MultiHeadAttention({E}, {nh}) (B={B}, {dt})", (B, L, E),
              (B, nh, L, S), dtype)


@check(points=1, description="parameter names and shapes follow the contract (torch's layout for multi-head)",
       kind="shapes", promises=("params.names", "additive.math", "general.math", "mha.params", "ctor.keywords"),
       targets=("AdditiveAttention", "GeneralAttention", "DotProductAttention", "MultiHeadAttention"))
def test_parameters(sub, draw):
    dq, dk, hs = draw.distinct(3, 2, 9)
    nh, hd = draw.distinct(2, 2, 4)
    E = nh * hd
    expected = {
        "AdditiveAttention": ((), dict(query_size=dq, key_size=dk, hidden_size=hs),
                              {"W_q.weight": (hs, dq), "W_k.weight": (hs, dk), "w_v.weight": (1, hs)}),
        "GeneralAttention": ((), dict(query_size=dq, key_size=dk), {"W.weight": (dq, dk)}),
        "DotProductAttention": ((), dict(scaled=True), {}),
        "MultiHeadAttention": ((), dict(embed_dim=E, num_heads=nh),
                               {"in_proj_weight": (3 * E, E), "in_proj_bias": (3 * E,),
                                "out_proj.weight": (E, E), "out_proj.bias": (E,)}),
        "MultiHeadAttention(bias=False)": ((), dict(embed_dim=E, num_heads=nh, bias=False),
                                           {"in_proj_weight": (3 * E, E), "out_proj.weight": (E, E)}),
    }
    for label, (_, kwargs, params) in expected.items():
        name = label.split("(")[0]
        got = {n: tuple(s) for n, s, _ in sub.parameters(sub.new(name, **kwargs))}
        if got != params:
            missing = sorted(set(params) - set(got))
            extra = sorted(set(got) - set(params))
            wrong = sorted(n for n in set(params) & set(got) if params[n] != got[n])
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {extra}")
            for n in wrong:
                parts.append(f"{n} has shape {got[n]}, expected {params[n]}")
            fail(f"{label} with {kwargs}: parameters differ from the contract: " + "; ".join(parts))


@check(points=0.5, description="causal_mask and sinusoidal_positional_encoding: shapes and dtypes",
       kind="shapes", promises=("causal-mask.values", "pe.values"),
       targets=("causal_mask", "sinusoidal_positional_encoding"))
def test_helper_shapes(sub, draw):
    L, S = draw.distinct(2, 2, 9)
    for args, shape in (((L,), (L, L)), ((L, S), (L, S))):
        expect_tensor(sub.call("causal_mask", *args).value, f"causal_mask{args}", shape, torch.bool)
    length, half = draw.int(3, 20), draw.int(1, 6)
    expect_tensor(sub.call("sinusoidal_positional_encoding", length, 2 * half).value,
                  f"sinusoidal_positional_encoding({length}, {2 * half})", (length, 2 * half), torch.float32)
    expect_tensor(sub.call("sinusoidal_positional_encoding", length, 2 * half, dtype=torch.float64).value,
                  f"sinusoidal_positional_encoding({length}, {2 * half}, dtype=float64)", (length, 2 * half),
                  torch.float64)
