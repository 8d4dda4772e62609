"""Hidden checks of a3_attention: values against the reference in float64.

Every module is loaded with the reference's random (non-symmetric) weights; sizes are
drawn at grading time and include the cases that hide bugs: query_size == key_size
(square weights hide a transposition or a swap), B == Q, several heads with B != heads.
When values differ, the message names the likely bug by comparing the submission's
output with the outputs of the usual mistakes.
"""

import math
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail

F64 = torch.float64


# ----------------------------------------------------------------------------- helpers
def _close(a, b) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(
        a.to(b.dtype), b, rtol=1e-5, atol=1e-7)


def _padding_mask(d, B, K):
    """[B, 1, K] bool, True at the first `length` keys (every row keeps key 0; one row is full)."""
    lengths = [d.int(1, K) for _ in range(B)]
    lengths[d.int(0, B - 1)] = K
    if B > 1 and K > 1:
        lengths[(lengths.index(K) + 1) % B] = d.int(1, K - 1)  # at least one row really padded
    return (torch.arange(K)[None, :] < torch.tensor(lengths)[:, None]).unsqueeze(1)


def _random_mask(d, *shape):
    """A random bool mask with at least one True and (when possible) one False per row."""
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    m = m.scatter(-1, idx, True)
    if shape[-1] > 1:
        other = (idx + 1) % shape[-1]
        m = m.scatter(-1, other, False)
    return m


def _float_mask(d, *shape):
    """Finite random offsets and some -inf, never a whole row of -inf."""
    allowed = _random_mask(d, *shape)
    return d.randn(*shape).masked_fill(~allowed, float("-inf"))


def _module(ref, d, name, kwargs, scale=0.5):
    m = getattr(ref, name)(**kwargs).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    return m, state


def _softmax_keys(ref, scores, mask):
    return ref.masked_softmax(scores, mask)


def _pair_diagnoses(alts, which):
    """Diagnoses for the context (which=0) or the weights (which=1) from (ctx, w, message) alternatives."""
    out = []
    for alt in alts:
        target = alt[which]
        if target is not None:
            out.append((lambda a, e, t=target: _close(a, t), alt[2]))
    return out


def _compare(got, expected, what, alts=()):
    """`got` must be (context, weights) equal to `expected`; weights first (their message is clearer)."""
    ctx, w = expect_tuple(got, what + " (context, weights)", 2)
    assert_close(w, expected[1], f"{what}: weights", diagnoses=_pair_diagnoses(alts, 1),
                 dims=WEIGHT_DIMS.get(expected[1].dim()))
    assert_close(ctx, expected[0], f"{what}: context", diagnoses=_pair_diagnoses(alts, 0),
                 dims=CONTEXT_DIMS.get(expected[0].dim()))


# Names of the dimensions, for messages that say where the values first differ.
WEIGHT_DIMS = {3: ("batch item", "query", "key"), 4: ("batch item", "head", "query", "key")}
CONTEXT_DIMS = {3: ("batch item", "query", "feature"), 4: ("batch item", "head", "query", "feature")}


# ----------------------------------------------------------------------------- additive
def _additive_manual(ref, state, q, k, v, mask, tanh=True, swap=False):
    wq, wk, wv = state["W_q.weight"], state["W_k.weight"], state["w_v.weight"]
    if swap:
        wq, wk = wk, wq
    h = (q @ wq.T).unsqueeze(2) + (k @ wk.T).unsqueeze(1)
    if tanh:
        h = torch.tanh(h)
    w = ref.masked_softmax((h @ wv.T).squeeze(-1), mask)
    return w @ v, w


def _additive_cases(d, ref):
    cases = []
    # square first (its message names a W_q/W_k swap): query_size == key_size == hidden_size, B == Q
    n = d.int(3, 7)
    B = Q = d.int(2, 5)
    K = d.int(2, 6)
    cases.append(dict(what="AdditiveAttention (query_size == key_size == hidden_size, B == Q, mask [B,Q,K])",
                      kwargs=dict(query_size=n, key_size=n, hidden_size=n),
                      B=B, Q=Q, K=K, dv=d.int(2, 6), mask=_random_mask(d, B, Q, K)))
    # distinct sizes, a padding mask over the keys
    dq, dk, dv, hs = d.distinct(4, 2, 9)
    B, Q, K = d.distinct(3, 2, 7)
    cases.append(dict(what="AdditiveAttention (distinct sizes, padding mask [B,1,K])",
                      kwargs=dict(query_size=dq, key_size=dk, hidden_size=hs),
                      B=B, Q=Q, K=K, dv=dv, mask=_padding_mask(d, B, K)))
    out = []
    for c in cases:
        m, state = _module(ref, d, "AdditiveAttention", c["kwargs"])
        q = d.randn(c["B"], c["Q"], c["kwargs"]["query_size"])
        k = d.randn(c["B"], c["K"], c["kwargs"]["key_size"])
        v = d.randn(c["B"], c["K"], c["dv"])
        with torch.no_grad():
            exp = m(q, k, v, c["mask"])
            alts = [(*_additive_manual(ref, state, q, k, v, c["mask"], tanh=False),
                     "the score has no tanh: score = w_v(tanh(W_q q + W_k k))")]
            if c["kwargs"]["query_size"] == c["kwargs"]["key_size"]:
                alts.append((*_additive_manual(ref, state, q, k, v, c["mask"], swap=True),
                             "W_q and W_k are swapped: W_q projects the queries, W_k the keys"))
        out.append(SimpleNamespace(what=c["what"], kwargs=c["kwargs"], state=state, args=(q, k, v, c["mask"]),
                                   exp=exp, alts=alts))
    return out


@check(points=1, description="AdditiveAttention gives the reference's context and weights",
       kind="values", promises=("additive.math", "mask.bool", "attn.mask-broadcast", "attn.sizes"),
       targets=("AdditiveAttention",))
def test_additive_values(sub, ref, once):
    for c in once(lambda d: _additive_cases(d, ref)):
        m = sub.build("AdditiveAttention", c.state, **c.kwargs, dtype=F64)
        _compare(sub.call(m, *c.args).value, c.exp, c.what, c.alts)


# ----------------------------------------------------------------------------- dot / general
def _dot_cases(d, ref):
    out = []
    for scaled in (False, True):
        E, dv = d.distinct(2, 2, 9)
        B, Q, K = d.distinct(3, 2, 7)
        q, k, v = d.randn(B, Q, E), d.randn(B, K, E), d.randn(B, K, dv)
        mask = _random_mask(d, B, Q, K)
        m = ref.DotProductAttention(scaled=scaled)
        exp = m(q, k, v, mask)
        raw = q @ k.transpose(-2, -1)
        alts = []
        if scaled:
            w = ref.masked_softmax(raw, mask)
            alts.append((w @ v, w, "DotProductAttention(scaled=True) must divide the scores by sqrt(d)"))
            w = ref.masked_softmax(raw / E, mask)
            alts.append((w @ v, w, "the scores are divided by d instead of sqrt(d)"))
        else:
            w = ref.masked_softmax(raw / math.sqrt(E), mask)
            alts.append((w @ v, w, "DotProductAttention(scaled=False) must not scale the scores"))
        out.append(SimpleNamespace(scaled=scaled, args=(q, k, v, mask), exp=exp, alts=alts,
                                   what=f"DotProductAttention(scaled={scaled}) with a [B,Q,K] mask"))
    return out


@check(points=1, description="DotProductAttention (scaled and not) gives the reference's values",
       kind="values", promises=("dot.math",),
       targets=("DotProductAttention",))
def test_dot_product_values(sub, ref, once):
    for c in once(lambda d: _dot_cases(d, ref)):
        m = sub.new("DotProductAttention", scaled=c.scaled, dtype=F64)
        _compare(sub.call(m, *c.args).value, c.exp, c.what, c.alts)


def _general_cases(d, ref):
    out = []
    dq, dk, dv = d.distinct(3, 2, 9)
    n = d.int(3, 7)
    for (qs, ks), what in (((n, n), "query_size == key_size, B == Q, no mask"),
                           ((dq, dk), "query_size != key_size, padding mask [B,1,K]")):
        if qs == ks:
            B = Q = d.int(2, 5)
            K = d.int(2, 6)
            mask = None
        else:
            B, Q, K = d.distinct(3, 2, 7)
            mask = _padding_mask(d, B, K)
        m, state = _module(ref, d, "GeneralAttention", dict(query_size=qs, key_size=ks))
        q, k, v = d.randn(B, Q, qs), d.randn(B, K, ks), d.randn(B, K, dv)
        with torch.no_grad():
            exp = m(q, k, v, mask)
        alts = []
        if qs == ks:
            W = state["W.weight"]
            w = ref.masked_softmax(q @ W.T @ k.transpose(-2, -1), mask)
            alts.append((w @ v, w, "W is transposed: the score is q . (W k), i.e. queries @ W(keys)^T"))
        out.append(SimpleNamespace(kwargs=dict(query_size=qs, key_size=ks), state=state,
                                   args=(q, k, v, mask), exp=exp, alts=alts, what=f"GeneralAttention ({what})"))
    return out


@check(points=1, description="GeneralAttention gives the reference's context and weights",
       kind="values", promises=("general.math", "attn.mask-broadcast", "attn.sizes"),
       targets=("GeneralAttention",))
def test_general_values(sub, ref, once):
    for c in once(lambda d: _general_cases(d, ref)):
        m = sub.build("GeneralAttention", c.state, **c.kwargs, dtype=F64)
        _compare(sub.call(m, *c.args).value, c.exp, c.what, c.alts)


# ----------------------------------------------------------------------------- sdpa
def _sdpa_alts(ref, q, k, v, mask=None, is_causal=False):
    E = q.size(-1)
    alts = []
    o, w = ref.scaled_dot_product_attention(q * math.sqrt(E), k, v, mask, is_causal)
    alts.append((o, w, "the scores are not divided by sqrt(d_k) (d_k = the queries' last dimension)"))
    o, w = ref.scaled_dot_product_attention(q / math.sqrt(E), k, v, mask, is_causal)
    alts.append((o, w, "the scores are divided by d_k instead of sqrt(d_k)"))
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(E)
    w = torch.softmax(scores, dim=-2)
    if mask is None and not is_causal:
        alts.append((w @ v, w, "the softmax is taken over the queries instead of the keys: check the softmax "
                               "dimension (it must be the last one)"))
    if mask is not None and mask.dtype == torch.bool and not is_causal:
        o, w = ref.scaled_dot_product_attention(q, k, v, ~mask)
        alts.append((o, w, "the mask convention is inverted: True means 'may attend' in this course "
                           "(torch's nn.MultiheadAttention uses the opposite)"))
        w = torch.softmax(scores.masked_fill(~mask, 0.0), dim=-1)
        alts.append((w @ v, w, "masked scores are set to 0 instead of -inf: fill them with -inf before the softmax"))
        w = torch.softmax(scores, dim=-1) * mask
        alts.append((w @ v, w, "the mask is applied after the softmax, so the remaining weights do not sum to 1: "
                               "mask the scores with -inf before the softmax"))
    if is_causal:
        L, S = q.size(-2), k.size(-2)
        for diag, text in ((-1, "query i may attend keys j < i only"), (1, "query i may attend key i + 1")):
            c = torch.ones(L, S, dtype=torch.bool).tril(diag)
            m = c if mask is None else mask & c
            o, w = ref.scaled_dot_product_attention(q, k, v, m)
            alts.append((o, w, f"the causal mask is off by one ({text}; it must be j <= i)"))
        if mask is not None:
            o, w = ref.scaled_dot_product_attention(q, k, v, mask)
            alts.append((o, w, "with both attn_mask and is_causal=True, both masks must apply (the causal "
                               "mask is ignored)"))
            o, w = ref.scaled_dot_product_attention(q, k, v, None, True)
            alts.append((o, w, "with both attn_mask and is_causal=True, both masks must apply (attn_mask is "
                               "ignored)"))
    return alts


def _sdpa_case(ref, q, k, v, what, mask=None, is_causal=False):
    exp = ref.scaled_dot_product_attention(q, k, v, mask, is_causal)
    return SimpleNamespace(args=(q, k, v), kwargs=dict(attn_mask=mask, is_causal=is_causal), exp=exp,
                           alts=_sdpa_alts(ref, q, k, v, mask, is_causal), what=what)


def _sdpa_cases(d, ref):
    E, Ev = d.distinct(2, 2, 9)
    B, L, S = d.distinct(3, 2, 7)
    h = d.int(2, 4)
    return [
        _sdpa_case(ref, d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev),
                   "scaled_dot_product_attention on [B,L,E] inputs (no mask)"),
        _sdpa_case(ref, d.randn(B, h, L, E), d.randn(B, h, S, E), d.randn(B, h, S, Ev),
                   "scaled_dot_product_attention on [B,heads,L,E] inputs (no mask)"),
        _sdpa_case(ref, d.randn(L, E), d.randn(S, E), d.randn(S, Ev),
                   "scaled_dot_product_attention on unbatched [L,E] inputs (no mask)"),
    ]


@check(points=1, description="scaled_dot_product_attention gives the reference's output and weights",
       kind="values", promises=("sdpa.math", "values.tolerance"),
       targets=("scaled_dot_product_attention",))
def test_sdpa_values(sub, ref, once):
    for c in once(lambda d: _sdpa_cases(d, ref)):
        _compare(sub.call("scaled_dot_product_attention", *c.args, **c.kwargs).value, c.exp, c.what, c.alts)


def _sdpa_mask_cases(d, ref):
    E, Ev = d.distinct(2, 2, 9)
    B, L, S = d.distinct(3, 2, 7)
    h = d.int(2, 4)
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)
    q4, k4, v4 = d.randn(B, h, L, E), d.randn(B, h, S, E), d.randn(B, h, S, Ev)
    return [
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention with a bool mask [L,S]", _random_mask(d, L, S)),
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention with a bool mask [B,L,S]",
                   _random_mask(d, B, L, S)),
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention with a key padding mask [B,1,S]",
                   _padding_mask(d, B, S)),
        _sdpa_case(ref, q4, k4, v4, "scaled_dot_product_attention on [B,heads,L,E] with a mask [B,heads,L,S]",
                   _random_mask(d, B, h, L, S)),
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention with a float mask [B,L,S] (added to the scores)",
                   _float_mask(d, B, L, S)),
    ]


@check(points=1.5, description="scaled_dot_product_attention with boolean and float masks of every shape",
       kind="masks", promises=("mask.bool", "mask.float-additive", "sdpa.math"),
       targets=("scaled_dot_product_attention",))
def test_sdpa_masks(sub, ref, once):
    for c in once(lambda d: _sdpa_mask_cases(d, ref)):
        _compare(sub.call("scaled_dot_product_attention", *c.args, **c.kwargs).value, c.exp, c.what, c.alts)


def _sdpa_causal_cases(d, ref):
    E, Ev = d.distinct(2, 2, 9)
    B, L = d.distinct(2, 2, 7)
    S = d.choice([n for n in range(2, 9) if n not in (L,)])
    q, k, v = d.randn(B, L, E), d.randn(B, L, E), d.randn(B, L, Ev)
    return [
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention(is_causal=True), L == S", None, True),
        _sdpa_case(ref, q, d.randn(B, S, E), d.randn(B, S, Ev),
                   "scaled_dot_product_attention(is_causal=True), L != S", None, True),
        _sdpa_case(ref, q, k, v, "scaled_dot_product_attention with is_causal=True and a padding mask [B,1,S]",
                   _padding_mask(d, B, L), True),
    ]


@check(points=1, description="scaled_dot_product_attention(is_causal=True), alone and with attn_mask",
       kind="masks", promises=("sdpa.mask-and-causal",),
       targets=("scaled_dot_product_attention",))
def test_sdpa_causal(sub, ref, once):
    for c in once(lambda d: _sdpa_causal_cases(d, ref)):
        _compare(sub.call("scaled_dot_product_attention", *c.args, **c.kwargs).value, c.exp, c.what, c.alts)


# ----------------------------------------------------------------------------- multi-head
def _mha_manual(ref, state, nh, q, k, v, mask=None, is_causal=False, *, order="qkv", transpose=True,
                out_proj=True, out_first=False):
    """Multi-head attention with the usual mistakes switchable (for diagnoses only)."""
    W = dict(zip("qkv", state["in_proj_weight"].chunk(3)))
    b = dict(zip("qkv", state["in_proj_bias"].chunk(3))) if "in_proj_bias" in state else dict.fromkeys("qkv")
    wq, wk, wv = (W[c] for c in order)
    bq, bk, bv = (b[c] for c in order)
    Wo, bo = state["out_proj.weight"], state.get("out_proj.bias")
    B, L, E = q.shape
    S = k.size(1)
    hd = E // nh
    vp = F.linear(v, wv, bv)
    if out_first:
        vp = F.linear(vp, Wo, bo)
    split = lambda x, n: x.reshape(B, n, nh, hd).transpose(1, 2)  # noqa: E731
    if mask is not None and mask.dim() == 3:
        mask = mask.unsqueeze(1)
    ctx, w = ref.scaled_dot_product_attention(split(F.linear(q, wq, bq), L), split(F.linear(k, wk, bk), S),
                                              split(vp, S), mask, is_causal)
    ctx = ctx.transpose(1, 2).reshape(B, L, E) if transpose else ctx.reshape(B, L, E)
    if out_proj and not out_first:
        ctx = F.linear(ctx, Wo, bo)
    return ctx, w


def _mha_alts(ref, state, nh, q, k, v, mask=None, is_causal=False):
    spec = [
        (dict(order="kqv"), "the query and key projections are swapped: in_proj_weight holds [W_q; W_k; W_v] "
                            "in that order"),
        (dict(order="vkq"), "the query and value projections are swapped: in_proj_weight holds [W_q; W_k; W_v] "
                            "in that order"),
        (dict(order="qvk"), "the key and value projections are swapped: in_proj_weight holds [W_q; W_k; W_v] "
                            "in that order"),
        (dict(transpose=False), "the heads are merged without transposing back: [B,heads,L,d] must become "
                                "[B,L,heads,d] (transpose(1, 2)) before the reshape to [B,L,E]"),
        (dict(out_proj=False), "out_proj is not applied to the merged heads"),
        (dict(out_first=True), "out_proj is applied before the heads are merged (it must be the last step, "
                               "on [B,L,E])"),
    ]
    alts = []
    for kw, msg in spec:
        o, w = _mha_manual(ref, state, nh, q, k, v, mask, is_causal, **kw)
        alts.append((o, w, msg))
    return alts


def _mha_case(ref, d, what, E, nh, B, L, S, *, bias=True, self_attn=False, mask=None, is_causal=False):
    m, state = _module(ref, d, "MultiHeadAttention", dict(embed_dim=E, num_heads=nh, bias=bias))
    q = d.randn(B, L, E)
    if self_attn:
        k = v = q
    else:
        k, v = d.randn(B, S, E), d.randn(B, S, E)
    with torch.no_grad():
        exp = m(q, k, v, mask, is_causal)
        alts = _mha_alts(ref, state, nh, q, k, v, mask, is_causal)
    return SimpleNamespace(kwargs=dict(embed_dim=E, num_heads=nh, bias=bias), state=state, args=(q, k, v),
                           call_kwargs=dict(attn_mask=mask, is_causal=is_causal), exp=exp, alts=alts, what=what)


def _mha_cases(d, ref):
    nh, hd = d.distinct(2, 2, 4)
    B, L, S = d.distinct(3, 2, 6)
    if B == nh:
        B = nh + 1
    n = d.int(2, 5)
    nh2 = d.int(2, 3)
    return [
        _mha_case(ref, d, f"MultiHeadAttention({nh * hd}, {nh}), cross-attention, B != heads", nh * hd, nh, B, L, S),
        _mha_case(ref, d, f"MultiHeadAttention({nh2 * 2}, {nh2}), self-attention, B == L", nh2 * 2, nh2, n, n, n,
                  self_attn=True),
        _mha_case(ref, d, "MultiHeadAttention with one head", hd * 2, 1, B, L, S),
        _mha_case(ref, d, f"MultiHeadAttention({nh * hd}, {nh}, bias=False)", nh * hd, nh, B, L, S, bias=False),
    ]


def _run_mha_cases(sub, cases):
    for c in cases:
        m = sub.build("MultiHeadAttention", c.state, **c.kwargs, dtype=F64)
        r = sub.call(m, *c.args, **{k: v for k, v in c.call_kwargs.items() if v is not None and v is not False})
        _compare(r.value, c.exp, c.what, c.alts)


@check(points=2, description="MultiHeadAttention gives the reference's output and per-head weights",
       kind="values", promises=("mha.forward", "mha.params"),
       targets=("MultiHeadAttention",))
def test_mha_values(sub, ref, once):
    _run_mha_cases(sub, once(lambda d: _mha_cases(d, ref)))


def _mha_mask_cases(d, ref):
    nh, hd = d.distinct(2, 2, 4)
    B, L, S = d.distinct(3, 2, 6)
    if B == nh:
        B = nh + 1
    E = nh * hd
    return [
        _mha_case(ref, d, "MultiHeadAttention with attn_mask [L,S]", E, nh, B, L, S, mask=_random_mask(d, L, S)),
        _mha_case(ref, d, "MultiHeadAttention with attn_mask [B,L,S] (the same for every head)", E, nh, B, L, S,
                  mask=_random_mask(d, B, L, S)),
        _mha_case(ref, d, "MultiHeadAttention with attn_mask [B,heads,L,S]", E, nh, B, L, S,
                  mask=_random_mask(d, B, nh, L, S)),
        _mha_case(ref, d, "MultiHeadAttention with a key padding mask [B,1,S]", E, nh, B, L, S,
                  mask=_padding_mask(d, B, S)),
        _mha_case(ref, d, "MultiHeadAttention with a float attn_mask [L,S]", E, nh, B, L, S,
                  mask=_float_mask(d, L, S)),
        _mha_case(ref, d, "MultiHeadAttention(is_causal=True) in self-attention", E, nh, B, L, L, self_attn=True,
                  is_causal=True),
        _mha_case(ref, d, "MultiHeadAttention with is_causal=True and a key padding mask [B,1,S]", E, nh, B, L, L,
                  self_attn=True, is_causal=True, mask=_padding_mask(d, B, L)),
    ]


@check(points=1.5, description="MultiHeadAttention with masks [L,S], [B,L,S], [B,heads,L,S], [B,1,S] and is_causal",
       kind="masks", promises=("mha.mask-shapes", "mha.mask-and-causal", "mask.float-additive"),
       targets=("MultiHeadAttention",))
def test_mha_masks(sub, ref, once):
    _run_mha_cases(sub, once(lambda d: _mha_mask_cases(d, ref)))


# ----------------------------------------------------------------------------- helpers of the contract
def _causal_cases(d, ref):
    L, S = d.distinct(2, 3, 9)
    out = []
    for args in ((L,), (L, S), (S, L)):
        exp = ref.causal_mask(*args)
        rows, cols = exp.shape
        alts = [
            (torch.ones(rows, cols, dtype=torch.bool).tril(-1), "query i may attend keys j < i only (off by one: "
                                                                 "it must be j <= i, the diagonal included)"),
            (torch.ones(rows, cols, dtype=torch.bool).tril(1), "query i may attend key i + 1 (off by one: it must "
                                                               "be j <= i)"),
            (~exp, "the mask is inverted: True means 'may attend' (j <= i)"),
            (exp.T if rows == cols else exp, "the mask is transposed (row = query i, column = key j)"),
        ]
        out.append(SimpleNamespace(args=args, exp=exp, alts=alts))
    return out


@check(points=0.5, description="causal_mask(L, S): True where key j <= query i",
       kind="values", promises=("causal-mask.values",),
       targets=("causal_mask",))
def test_causal_mask(sub, ref, once):
    for c in once(lambda d: _causal_cases(d, ref)):
        got = sub.call("causal_mask", *c.args).value
        what = f"causal_mask{c.args}"
        expect_tensor(got, what, c.exp.shape, torch.bool)
        if torch.equal(got, c.exp):
            continue
        hints = [msg for t, msg in c.alts if not torch.equal(t, c.exp) and torch.equal(got, t)]
        i, j = (int(x) for x in (got != c.exp).nonzero()[0])
        fail(f"{what}: wrong at {int((got != c.exp).sum())} positions, first at query {i}, key {j} (got "
             f"{bool(got[i, j])}, expected {bool(c.exp[i, j])}; True where key j <= query i)"
             + ("; " + "; ".join(hints) if hints else ""))


def _pe_alts(length, dm):
    pos = torch.arange(length, dtype=F64).unsqueeze(1)
    two_i = torch.arange(0, dm, 2, dtype=F64)
    angle = pos / torch.pow(10000.0, two_i / dm)
    alts = [
        (torch.stack((angle.cos(), angle.sin()), -1).reshape(length, dm),
         "sin and cos are swapped: PE[p, 2i] = sin(...), PE[p, 2i+1] = cos(...)"),
        (torch.cat((angle.sin(), angle.cos()), -1),
         "sin and cos are concatenated (all sines, then all cosines) instead of interleaved "
         "(even columns sin, odd columns cos)"),
    ]
    for expo, text in ((torch.arange(dm // 2, dtype=F64) / dm, "i/d"),
                       (torch.arange(dm // 2, dtype=F64) * 2 / dm * 2, "4i/d"),
                       (torch.arange(1, dm, 2, dtype=F64) / dm, "(2i+1)/d")):
        a = pos / torch.pow(10000.0, expo)
        alts.append((torch.stack((a.sin(), a.cos()), -1).reshape(length, dm),
                     f"the exponent is {text}; it must be 2i/d, with i the index of the (sin, cos) pair"))
    a = pos / torch.pow(10000.0, torch.arange(dm, dtype=F64) / dm)
    alt = torch.where(torch.arange(dm) % 2 == 0, a.sin(), a.cos())
    alts.append((alt, "the exponent uses the column index k (k/d) instead of the pair index: columns 2i and "
                      "2i+1 share the frequency 1/10000^(2i/d)"))
    a = pos * torch.pow(10000.0, two_i / dm)
    alts.append((torch.stack((a.sin(), a.cos()), -1).reshape(length, dm),
                 "the position is multiplied by 10000^(2i/d) instead of divided"))
    return alts


def _pe_cases(d, ref):
    out = []
    for dtype in (None, F64):
        length = d.int(5, 40)
        dm = 2 * d.int(2, 8)
        kwargs = {} if dtype is None else {"dtype": dtype}
        exp = ref.sinusoidal_positional_encoding(length, dm, **kwargs)
        out.append(SimpleNamespace(args=(length, dm), kwargs=kwargs, exp=exp, alts=_pe_alts(length, dm)))
    return out


@check(points=1, description="sinusoidal_positional_encoding: values, shape and dtype",
       kind="values", promises=("pe.values",),
       targets=("sinusoidal_positional_encoding",))
def test_positional_encoding(sub, ref, once):
    for c in once(lambda d: _pe_cases(d, ref)):
        got = sub.call("sinusoidal_positional_encoding", *c.args, **c.kwargs).value
        tol = dict(rtol=1e-4, atol=1e-5) if c.exp.dtype == torch.float32 else {}
        diag = [(lambda a, e, t=t: _close(a, t.to(e.dtype)) if e.dtype == F64 else
                 torch.allclose(a.double(), t, rtol=1e-4, atol=1e-5), msg) for t, msg in c.alts]
        what = f"sinusoidal_positional_encoding{c.args}" + (" (default dtype float32)" if not c.kwargs else
                                                            ", dtype=float64")
        assert_close(got, c.exp, what, diagnoses=diag, **tol)
