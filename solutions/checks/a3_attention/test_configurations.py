"""Hidden checks of a3_attention in the configurations short checks leave out, each built into its case:
float masks of every allowed shape (with -inf rows, gradients w.r.t. the mask, a float32 mask for
float64 inputs), masks of every shape and kind together with is_causal, one head and head size 1,
batches and sequences of length one, inputs that are non-contiguous views, and long key sequences.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, view_hint
from grader.sandbox.wire import GradInput, Strided

F32, F64 = torch.float32, torch.float64


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"internal error: the check's case lacks its situation ({what})")


def _module(ref, d, name, kwargs, scale=0.5):
    m = getattr(ref, name)(**kwargs).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    return m, state


def _bool_mask(d, *shape, dead_row=True, future=False):
    """A random boolean mask; every row keeps a key and drops one, except one fully masked row (never the
    first). With `future`, the first row (query 0 of the first batch item) may attend key 1, so a causal
    mask always changes something."""
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    m = m.scatter(-1, idx, True)
    if shape[-1] > 1:
        m = m.scatter(-1, (idx + 1) % shape[-1], False)
    rows = m.view(-1, shape[-1])
    if future:
        rows[0, 1] = True
    if dead_row:
        rows[d.int(1, rows.size(0) - 1)] = False
    return m


def _float_mask(d, *shape, dtype=F64, future=False):
    """Finite offsets, -inf where a boolean mask drops a key, and one row that is -inf everywhere."""
    keep = _bool_mask(d, *shape, future=future)
    mask = d.randn(*shape).masked_fill(~keep, float("-inf")).to(dtype)
    _require(bool(torch.isneginf(mask).all(-1).any()) and bool(torch.isfinite(mask).any(-1).any()),
             "a fully -inf row and rows with finite offsets")
    return mask


def _ref_run(fn, tensors, mask, kwargs, grads_of_outputs):
    """fn(*tensors, attn_mask=mask) with autograd; (outputs, grads of the tensors and the mask)."""
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    m = mask.clone().requires_grad_(True) if mask.is_floating_point() else mask
    out = fn(*leaves, attn_mask=m, **kwargs)
    sum((o * g).sum() for o, g in zip(out, grads_of_outputs)).backward()
    return tuple(o.detach() for o in out), [t.grad for t in leaves], (m.grad if mask.is_floating_point() else None)


# ----------------------------------------------------------------------------- float masks
def _float_mask_cases(d, ref):
    E, Ev = d.distinct(2, 2, 6)
    B, L, S = d.distinct(3, 2, 6)
    h = d.int(2, 3)
    nh, hd = d.distinct(2, 2, 3)
    Em = nh * hd
    if B == nh:
        B = max(B, L, S) + 1
    out = []
    sdpa = ref.scaled_dot_product_attention
    for what, shape, qshape, dtype in (("[L,S]", (L, S), (B, L), F64), ("[B,L,S]", (B, L, S), (B, L), F32),
                                       ("[B,1,S]", (B, 1, S), (B, L), F64),
                                       ("[B,heads,L,S]", (B, h, L, S), (B, h, L), F64)):
        q, k, v = d.randn(*qshape, E), d.randn(*qshape[:-1], S, E), d.randn(*qshape[:-1], S, Ev)
        mask = _float_mask(d, *shape, dtype=dtype)
        g = (d.randn(*qshape, Ev), d.randn(*qshape, S))
        res, grads, dmask = _ref_run(sdpa, (q, k, v), mask, {}, g)
        tag = f"scaled_dot_product_attention with a float mask {what}" + (" in float32 (inputs in float64)"
                                                                          if dtype == F32 else "")
        out.append(SimpleNamespace(what=tag, name=None, state=None, kwargs={}, args=(q, k, v), mask=mask, g=g,
                                   out=res, grads=grads, dmask=dmask))
    mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=Em, num_heads=nh))
    for what, shape, dtype in (("[L,S]", (L, S), F32), ("[B,L,S]", (B, L, S), F64),
                               ("[B,heads,L,S]", (B, nh, L, S), F64), ("[B,1,S]", (B, 1, S), F64)):
        q, k, v = d.randn(B, L, Em), d.randn(B, S, Em), d.randn(B, S, Em)
        mask = _float_mask(d, *shape, dtype=dtype)
        g = (d.randn(B, L, Em), d.randn(B, nh, L, S))
        res, grads, dmask = _ref_run(lambda *a, **kw: mod(*a, **kw), (q, k, v), mask, {}, g)
        tag = f"MultiHeadAttention({Em}, {nh}) with a float attn_mask {what}" + (
            " in float32 (inputs and module in float64)" if dtype == F32 else "")
        out.append(SimpleNamespace(what=tag, name="MultiHeadAttention", state=st,
                                   kwargs=dict(embed_dim=Em, num_heads=nh), args=(q, k, v), mask=mask, g=g,
                                   out=res, grads=grads, dmask=dmask))
    _require(any(c.mask.dtype == F32 for c in out) and len({c.mask.dim() for c in out}) == 3,
             "float32 masks and masks of 2, 3 and 4 dimensions")
    return out


def _float_mask_hints(c, w):
    if torch.isnan(w).any():
        fail(f"{c.what}: the weights contain NaN: a row whose float mask is -inf everywhere has weights 0 and "
             "output 0, never NaN (check the row before the softmax, as for a fully masked boolean row)")


@check(points=2, description="float masks of every allowed shape (-inf rows included, float32 masks on float64 "
                             "inputs): values and gradients, also w.r.t. the mask", kind="masks",
       promises=("mask.float-additive", "mask.float-grad", "mask.float-dtype", "mask.fully-masked",
                 "mha.mask-shapes", "mha.fully-masked"),
       targets=("scaled_dot_product_attention", "MultiHeadAttention"))
def test_float_masks(sub, ref, once):
    for c in once(lambda d: _float_mask_cases(d, ref)):
        target = "scaled_dot_product_attention" if c.name is None else \
            sub.build(c.name, c.state, **c.kwargs, dtype=F64)
        r = sub.call(target, GradInput(c.args[0]), *c.args[1:], attn_mask=GradInput(c.mask), backward=c.g)
        ctx, w = expect_tuple(r.value, f"{c.what} (output, weights)", 2)
        expect_tensor(w, f"{c.what}: weights", c.out[1].shape)
        _float_mask_hints(c, w)
        expect_tensor(ctx, f"{c.what}: output", c.out[0].shape, F64)
        assert_close(w, c.out[1], f"{c.what}: weights")
        assert_close(ctx, c.out[0], f"{c.what}: output")
        assert_grad_close(r.input_grads[0], c.grads[0], f"{c.what}: d loss / d query")
        dmask = r.input_grads[1] if len(r.input_grads) > 1 else None
        if dmask is None:
            fail(f"{c.what}: no gradient reached the float mask: it is an input like the others (scores + mask); "
                 "do not detach it or turn it into a boolean mask")
        if isinstance(dmask, torch.Tensor) and torch.isnan(dmask).any():
            fail(f"{c.what}: the gradient w.r.t. the float mask contains NaN (a fully -inf row must not compute "
                 "0/0 in the forward pass either)")
        assert_grad_close(dmask, c.dmask, f"{c.what}: d loss / d attn_mask", check_dtype=False)


# ----------------------------------------------------------------------------- masks with is_causal
def _causal_cases(d, ref):
    E, Ev = d.distinct(2, 2, 6)
    B, L, S = d.distinct(3, 2, 6)
    h = d.int(2, 3)
    nh, hd = d.distinct(2, 2, 3)
    Em = nh * hd
    out = []
    sdpa = ref.scaled_dot_product_attention
    for what, mshape, qshape, kind in (("a float mask [B,L,S]", (B, L, S), (B, L), "float"),
                                       ("a float mask [B,1,S]", (B, 1, S), (B, L), "float"),
                                       ("a bool mask [L,S]", (L, S), (B, L), "bool"),
                                       ("a bool mask [B,heads,L,S]", (B, h, L, S), (B, h, L), "bool")):
        q, k, v = d.randn(*qshape, E), d.randn(*qshape[:-1], S, E), d.randn(*qshape[:-1], S, Ev)
        mask = _float_mask(d, *mshape, future=True) if kind == "float" else _bool_mask(d, *mshape, future=True)
        with torch.no_grad():
            exp = sdpa(q, k, v, mask, True)
            alone = sdpa(q, k, v, mask, False)
        _require(not torch.allclose(exp[1], alone[1]), "the causal mask changes the weights")
        out.append(SimpleNamespace(what=f"scaled_dot_product_attention(is_causal=True) with {what}, L={L}, S={S}",
                                   name=None, state=None, kwargs={}, args=(q, k, v), mask=mask, exp=exp,
                                   alone=alone))
    mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=Em, num_heads=nh))
    for what, mshape, kind in (("a float attn_mask [L,S]", (L, S), "float"),
                               ("a bool attn_mask [B,heads,L,S]", (B, nh, L, S), "bool"),
                               ("a bool attn_mask [B,L,S]", (B, L, S), "bool")):
        q, k, v = d.randn(B, L, Em), d.randn(B, S, Em), d.randn(B, S, Em)
        mask = _float_mask(d, *mshape, future=True) if kind == "float" else _bool_mask(d, *mshape, future=True)
        with torch.no_grad():
            exp = mod(q, k, v, mask, True)
            alone = mod(q, k, v, mask, False)
        _require(not torch.allclose(exp[1], alone[1]), "the causal mask changes the weights")
        out.append(SimpleNamespace(what=f"MultiHeadAttention(is_causal=True) with {what}, L={L}, S={S}",
                                   name="MultiHeadAttention", state=st, kwargs=dict(embed_dim=Em, num_heads=nh),
                                   args=(q, k, v), mask=mask, exp=exp, alone=alone))
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)
    return SimpleNamespace(cases=out, L=L, S=S, qkv=(q, k, v), exp=sdpa(q, k, v, None, True))


@check(points=1, description="is_causal together with float and boolean masks of every shape (both apply), and "
                             "causal_mask(L, S) as attn_mask equals is_causal=True", kind="masks",
       promises=("mask.and-causal-any", "sdpa.mask-and-causal", "mha.mask-and-causal", "causal-mask.values"),
       targets=("scaled_dot_product_attention", "MultiHeadAttention", "causal_mask"))
def test_masks_with_causal(sub, ref, once):
    c0 = once(lambda d: _causal_cases(d, ref))
    for c in c0.cases:
        target = "scaled_dot_product_attention" if c.name is None else \
            sub.build(c.name, c.state, **c.kwargs, dtype=F64)
        ctx, w = expect_tuple(sub.call(target, *c.args, attn_mask=c.mask, is_causal=True).value,
                              f"{c.what} (output, weights)", 2)
        diag = [(lambda a, e, t=c.alone[1]: a.shape == t.shape and torch.allclose(a, t, atol=1e-9),
                 "the causal mask is ignored when attn_mask is given: with both, both apply (key j is allowed "
                 "only where attn_mask allows it and j <= i)")]
        assert_close(w, c.exp[1], f"{c.what}: weights", diagnoses=diag)
        assert_close(ctx, c.exp[0], f"{c.what}: output")
    mask = sub.call("causal_mask", c0.L, c0.S).value
    expect_tensor(mask, f"causal_mask({c0.L}, {c0.S})", (c0.L, c0.S), torch.bool)
    ctx, w = expect_tuple(sub.call("scaled_dot_product_attention", *c0.qkv, attn_mask=mask).value,
                          "scaled_dot_product_attention with attn_mask=causal_mask(L, S)", 2)
    assert_close(w, c0.exp[1], f"scaled_dot_product_attention with attn_mask = your causal_mask({c0.L}, {c0.S}) "
                               "(it must equal is_causal=True): weights")


# ----------------------------------------------------------------------------- one head, head size 1
def _heads_cases(d, ref):
    E = d.int(3, 6)
    B, L, S = d.distinct(3, 2, 6)
    out = []
    for nh, bias in ((1, True), (E, True), (E, False)):
        mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=E, num_heads=nh, bias=bias))
        q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, E)
        mask = _bool_mask(d, B, L, S, dead_row=False)
        with torch.no_grad():
            exp = mod(q, k, v, mask)
        out.append(SimpleNamespace(kwargs=dict(embed_dim=E, num_heads=nh, bias=bias), state=st, args=(q, k, v),
                                   mask=mask, exp=exp,
                                   what=f"MultiHeadAttention({E}, num_heads={nh}{', bias=False' if not bias else ''})"
                                        f" (head size {E // nh}) with a mask [B,L,S]"))
    _require({c.kwargs["num_heads"] for c in out} == {1, E}, "one head and head size 1")
    return out


@check(points=1, description="MultiHeadAttention with one head and with num_heads = embed_dim (head size 1)",
       kind="values", promises=("mha.num-heads", "mha.forward"), targets=("MultiHeadAttention",))
def test_mha_head_counts(sub, ref, once):
    for c in once(lambda d: _heads_cases(d, ref)):
        m = sub.build("MultiHeadAttention", c.state, **c.kwargs, dtype=F64)
        ctx, w = expect_tuple(sub.call(m, *c.args, attn_mask=c.mask).value, f"{c.what} (output, weights)", 2)
        expect_tensor(w, f"{c.what}: weights [B, num_heads, L, S]", c.exp[1].shape, F64)
        assert_close(w, c.exp[1], f"{c.what}: weights")
        assert_close(ctx, c.exp[0], f"{c.what}: output")


# ----------------------------------------------------------------------------- length one, batch of one
def _one_cases(d, ref):
    dq, dk, dv, hs = d.distinct(4, 2, 7)
    nh, hd = d.distinct(2, 2, 3)
    Em = nh * hd
    S = d.int(2, 5)
    out = []
    mods = {"AdditiveAttention": _module(ref, d, "AdditiveAttention",
                                         dict(query_size=dq, key_size=dk, hidden_size=hs)),
            "GeneralAttention": _module(ref, d, "GeneralAttention", dict(query_size=dq, key_size=dk)),
            "MultiHeadAttention": _module(ref, d, "MultiHeadAttention", dict(embed_dim=Em, num_heads=nh))}
    for B, Q, K in ((1, 1, 1), (1, 1, S), (d.int(2, 4), 1, S)):
        for name, (mod, st) in mods.items():
            if name == "MultiHeadAttention":
                args = (d.randn(B, Q, Em), d.randn(B, K, Em), d.randn(B, K, Em))
                kwargs = dict(embed_dim=Em, num_heads=nh)
            else:
                args = (d.randn(B, Q, dq), d.randn(B, K, dk), d.randn(B, K, dv))
                kwargs = (dict(query_size=dq, key_size=dk, hidden_size=hs) if name == "AdditiveAttention"
                          else dict(query_size=dq, key_size=dk))
            with torch.no_grad():
                exp = mod(*args)
            out.append(SimpleNamespace(name=name, state=st, kwargs=kwargs, args=args, exp=exp,
                                       what=f"{name} with B={B}, {Q} query, {K} key{'s' if K > 1 else ''}"))
        q, k, v = d.randn(B, Q, dq), d.randn(B, K, dq), d.randn(B, K, dv)
        for name, fn in (("DotProductAttention", ref.DotProductAttention(scaled=True)),
                         ("scaled_dot_product_attention", ref.scaled_dot_product_attention)):
            out.append(SimpleNamespace(name=name, state=None, kwargs=dict(scaled=True) if name[0] == "D" else None,
                                       args=(q, k, v), exp=fn(q, k, v),
                                       what=f"{name} with B={B}, {Q} query, {K} key{'s' if K > 1 else ''}"))
    _require(any(c.args[0].shape[:2] == (1, 1) and c.args[1].size(1) == 1 for c in out), "B = Q = K = 1")
    return out


@check(points=1, description="every attention with a batch of one, one query and one key (length one): shapes, "
                             "dtypes and values", kind="shapes",
       promises=("length.one", "batch.any", "attn.shapes", "mha.forward"),
       targets=("AdditiveAttention", "GeneralAttention", "DotProductAttention", "scaled_dot_product_attention",
                "MultiHeadAttention"))
def test_length_one(sub, ref, once):
    handles = {}
    for c in once(lambda d: _one_cases(d, ref)):
        if c.kwargs is None:
            target = c.name
        else:
            if c.name not in handles:
                handles[c.name] = (sub.build(c.name, c.state, **c.kwargs, dtype=F64) if c.state is not None
                                   else sub.new(c.name, **c.kwargs, dtype=F64))
            target = handles[c.name]
        ctx, w = expect_tuple(sub.call(target, *c.args).value, f"{c.what} (context, weights)", 2)
        for name, got, exp in (("weights", w, c.exp[1]), ("context", ctx, c.exp[0])):
            if isinstance(got, torch.Tensor) and got.numel() == exp.numel() and got.shape != exp.shape:
                fail(f"{c.what}: {name} should have shape {tuple(exp.shape)}, got {tuple(got.shape)}: a dimension "
                     "of size 1 was dropped (squeeze() without a dim, or a reshape that loses it)")
            assert_close(got, exp, f"{c.what}: {name}")


# ----------------------------------------------------------------------------- non-contiguous inputs
def _strided_cases(d, ref):
    E, Ev, dk, hs = d.distinct(4, 2, 6)
    B, L, S = d.distinct(3, 2, 6)
    nh, hd = d.distinct(2, 2, 3)
    Em = nh * hd
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)
    mask = _bool_mask(d, B, L, S, dead_row=False)
    sdpa = ref.scaled_dot_product_attention(q, k, v, mask)
    mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=Em, num_heads=nh))
    mq, mk, mv = d.randn(B, L, Em), d.randn(B, S, Em), d.randn(B, S, Em)
    with torch.no_grad():
        mha = mod(mq, mk, mv, mask)
    add, add_st = _module(ref, d, "AdditiveAttention", dict(query_size=E, key_size=dk, hidden_size=hs))
    aq, ak, av = d.randn(B, L, E), d.randn(B, S, dk), d.randn(B, S, Ev)
    with torch.no_grad():
        additive = add(aq, ak, av, mask)
    return SimpleNamespace(qkv=(q, k, v), mask=mask, sdpa=sdpa, mha_kwargs=dict(embed_dim=Em, num_heads=nh),
                           mha_state=st, mqkv=(mq, mk, mv), mha=mha,
                           add_kwargs=dict(query_size=E, key_size=dk, hidden_size=hs), add_state=add_st,
                           aqkv=(aq, ak, av), additive=additive)


def _compare(value, exp, what):
    ctx, w = expect_tuple(value, f"{what} (output, weights)", 2)
    with view_hint():
        assert_close(w, exp[1], f"{what}: weights")
        assert_close(ctx, exp[0], f"{what}: output")


@check(points=1, description="scaled_dot_product_attention, MultiHeadAttention and AdditiveAttention accept "
                             "non-contiguous views (transposed, sliced) as inputs", kind="values",
       promises=("input.non-contiguous", "sdpa.math", "mha.forward", "additive.math"),
       targets=("scaled_dot_product_attention", "MultiHeadAttention", "AdditiveAttention"))
def test_noncontiguous_inputs(sub, ref, once):
    c = once(lambda d: _strided_cases(d, ref))
    q, k, v = c.qkv
    _compare(sub.call("scaled_dot_product_attention", Strided(q, "transposed"), Strided(k, "sliced"),
                      Strided(v, "transposed"), attn_mask=Strided(c.mask, "transposed")).value, c.sdpa,
             "scaled_dot_product_attention with transposed and sliced views as query, key, value and mask")
    m = sub.build("MultiHeadAttention", c.mha_state, **c.mha_kwargs, dtype=F64)
    q, k, v = c.mqkv
    _compare(sub.call(m, Strided(q, "transposed"), Strided(k, "transposed"), Strided(v, "sliced"),
                      attn_mask=c.mask).value, c.mha,
             "MultiHeadAttention with transposed and sliced views as query, key and value")
    m = sub.build("AdditiveAttention", c.add_state, **c.add_kwargs, dtype=F64)
    q, k, v = c.aqkv
    _compare(sub.call(m, Strided(q, "transposed"), Strided(k, "sliced"), Strided(v, "transposed"), c.mask).value,
             c.additive, "AdditiveAttention with transposed and sliced views as queries, keys and values")


# ----------------------------------------------------------------------------- long key sequences
def _long_cases(d, ref):
    K = d.int(600, 700)
    Q = d.int(3, 8)
    dq, dk, dv, hs = d.distinct(4, 2, 5)
    lengths = torch.tensor([K, K - d.int(1, 80)])
    mask = (torch.arange(K)[None, :] < lengths[:, None]).unsqueeze(1)  # [2, 1, K]: the second row is padded
    out = []
    for name, kwargs, kd in (("AdditiveAttention", dict(query_size=dq, key_size=dk, hidden_size=hs), dk),
                             ("GeneralAttention", dict(query_size=dq, key_size=dk), dk),
                             ("DotProductAttention", dict(scaled=True), dq)):
        if name == "DotProductAttention":
            mod, st = ref.DotProductAttention(scaled=True), None
        else:
            mod, st = _module(ref, d, name, kwargs)
        q, k, v = d.randn(2, Q, dq), d.randn(2, K, kd), d.randn(2, K, dv)
        with torch.no_grad():
            exp = mod(q, k, v, mask)
        out.append(SimpleNamespace(name=name, kwargs=kwargs, state=st, args=(q, k, v, mask), exp=exp,
                                   what=f"{name} over K = {K} keys (the second row padded after "
                                        f"{int(lengths[1])})"))
    L, S = d.int(520, 560), d.int(600, 640)
    length, dm = d.int(2050, 2100), 2 * d.int(2, 4)
    _require(K >= 512 and L >= 512 and length >= 2048, "sequences longer than 512 positions")
    return SimpleNamespace(cases=out, L=L, S=S, causal=ref.causal_mask(L, S), length=length, dm=dm,
                           pe=ref.sinusoidal_positional_encoding(length, dm, dtype=F64))


@check(points=1, timeout=30, description="Additive, General and Dot-product attention over 600+ keys; "
                                         "causal_mask and sinusoidal_positional_encoding beyond 512 and 2048 "
                                         "positions", kind="long_sequence",
       promises=("additive.math", "general.math", "dot.math", "causal-mask.values", "pe.values",
                 "attn.mask-broadcast"),
       targets=("AdditiveAttention", "GeneralAttention", "DotProductAttention", "causal_mask",
                "sinusoidal_positional_encoding"))
def test_long_sequences(sub, ref, once):
    c0 = once(lambda d: _long_cases(d, ref))
    for c in c0.cases:
        m = sub.build(c.name, c.state, **c.kwargs, dtype=F64) if c.state is not None else \
            sub.new(c.name, **c.kwargs, dtype=F64)
        ctx, w = expect_tuple(sub.call(m, *c.args).value, f"{c.what} (context, weights)", 2)
        assert_close(w, c.exp[1], f"{c.what}: weights")
        assert_close(ctx, c.exp[0], f"{c.what}: context")
    got = expect_tensor(sub.call("causal_mask", c0.L, c0.S).value, f"causal_mask({c0.L}, {c0.S})", (c0.L, c0.S),
                        torch.bool)
    if not torch.equal(got, c0.causal):
        i, j = (int(x) for x in (got != c0.causal).nonzero()[0])
        fail(f"causal_mask({c0.L}, {c0.S}) is wrong at query {i}, key {j}: True exactly where j <= i, for any size")
    got = sub.call("sinusoidal_positional_encoding", c0.length, c0.dm, dtype=F64).value
    assert_close(got, c0.pe, f"sinusoidal_positional_encoding({c0.length}, {c0.dm}, dtype=float64) (positions "
                             "beyond 2048: compute every position, no table of fixed size)")
