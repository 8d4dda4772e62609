"""Hidden checks of a3_attention: properties of the weights and of masking.

These checks look at what the weights must satisfy whatever the weights of the module
(rows sum to 1 over the keys, masked keys get exactly 0, fully masked rows give 0 and
never NaN, padding and other batch items change nothing), so their messages can say
precisely what is wrong.
"""

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail
from grader.sandbox.wire import GradInput

F64 = torch.float64


def _module(ref, d, name, kwargs, scale=0.5):
    m = getattr(ref, name)(**kwargs).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    return m, state


def _random_mask(d, *shape):
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.5
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    m = m.scatter(-1, idx, True)
    return m.scatter(-1, (idx + 1) % shape[-1], False)


def _weights_of(value, what, shape):
    ctx, w = expect_tuple(value, what + " (context, weights)", 2)
    expect_tensor(w, what + ": weights", shape)
    return ctx, w


# ----------------------------------------------------------------------------- softmax over the keys
def _sum_cases(d, ref):
    dq, dk, dv, hs = d.distinct(4, 2, 9)
    B, Q, K = d.distinct(3, 2, 7)
    nh = d.int(2, 3)
    E = nh * d.int(2, 3)
    cases = []
    add_m, add_s = _module(ref, d, "AdditiveAttention", dict(query_size=dq, key_size=dk, hidden_size=hs))
    gen_m, gen_s = _module(ref, d, "GeneralAttention", dict(query_size=dq, key_size=dk))
    mha_m, mha_s = _module(ref, d, "MultiHeadAttention", dict(embed_dim=E, num_heads=nh))
    cases.append(SimpleNamespace(what="AdditiveAttention", name="AdditiveAttention", state=add_s,
                                 kwargs=dict(query_size=dq, key_size=dk, hidden_size=hs),
                                 args=(d.randn(B, Q, dq), d.randn(B, K, dk), d.randn(B, K, dv)), wshape=(B, Q, K)))
    cases.append(SimpleNamespace(what="GeneralAttention", name="GeneralAttention", state=gen_s,
                                 kwargs=dict(query_size=dq, key_size=dk),
                                 args=(d.randn(B, Q, dq), d.randn(B, K, dk), d.randn(B, K, dv)), wshape=(B, Q, K)))
    cases.append(SimpleNamespace(what="DotProductAttention(scaled=True)", name="DotProductAttention", state=None,
                                 kwargs=dict(scaled=True),
                                 args=(d.randn(B, Q, dq), d.randn(B, K, dq), d.randn(B, K, dv)), wshape=(B, Q, K)))
    cases.append(SimpleNamespace(what="scaled_dot_product_attention", name=None, state=None, kwargs={},
                                 args=(d.randn(B, Q, dq), d.randn(B, K, dq), d.randn(B, K, dv)), wshape=(B, Q, K)))
    cases.append(SimpleNamespace(what="MultiHeadAttention", name="MultiHeadAttention", state=mha_s,
                                 kwargs=dict(embed_dim=E, num_heads=nh),
                                 args=(d.randn(B, Q, E), d.randn(B, K, E), d.randn(B, K, E)), wshape=(B, nh, Q, K)))
    return cases


def _check_rows(w, what):
    ones_keys = torch.ones(w.shape[:-1], dtype=w.dtype)
    if not torch.isfinite(w).all():
        fail(f"{what}: the weights contain NaN or inf")
    if (w < -1e-12).any():
        fail(f"{what}: some weights are negative; they must be a softmax of the scores")
    if torch.allclose(w.sum(-1), ones_keys, rtol=1e-6, atol=1e-8):
        return
    over_q = w.sum(-2)
    if torch.allclose(over_q, torch.ones_like(over_q), rtol=1e-6, atol=1e-8):
        fail(f"{what}: the weights sum to 1 over the queries instead of the keys: check the softmax dimension "
             "(softmax over the last dimension, the keys, so that each query's weights sum to 1)")
    fail(f"{what}: the weights of a query do not sum to 1 over the keys (got sums between "
         f"{float(w.sum(-1).min()):.4g} and {float(w.sum(-1).max()):.4g}): they must be a softmax over the "
         "last dimension (the keys)")


@check(points=1.5, description="every query's weights sum to 1 over the keys (softmax over the right dimension)",
       kind="properties", promises=("attn.shapes", "sdpa.math", "mha.forward"),
       targets=("AdditiveAttention", "GeneralAttention", "DotProductAttention", "scaled_dot_product_attention",
                "MultiHeadAttention"))
def test_softmax_over_keys(sub, ref, once):
    for c in once(lambda d: _sum_cases(d, ref)):
        if c.name is None:
            r = sub.call("scaled_dot_product_attention", *c.args)
        else:
            m = sub.build(c.name, c.state, **c.kwargs, dtype=F64) if c.state else sub.new(c.name, **c.kwargs,
                                                                                          dtype=F64)
            r = sub.call(m, *c.args)
        ctx, w = _weights_of(r.value, c.what, c.wshape)
        _check_rows(w, c.what)
        if c.name in (None, "DotProductAttention", "GeneralAttention", "AdditiveAttention"):
            expect_tensor(ctx, c.what + ": context", (*c.wshape[:-1], c.args[2].size(-1)))
            if torch.isfinite(ctx).all() and not torch.allclose(ctx, w @ c.args[2], rtol=1e-6, atol=1e-8):
                fail(f"{c.what}: the context is not weights @ values (each query's context is the weighted "
                     "sum of the values)")


# ----------------------------------------------------------------------------- the mask convention
def _convention_cases(d, ref):
    E, Ev, dk, hs = d.distinct(4, 2, 9)
    B, L, S = d.distinct(3, 3, 8)
    nh = d.int(2, 3)
    add_m, add_s = _module(ref, d, "AdditiveAttention", dict(query_size=E, key_size=dk, hidden_size=hs))
    mha_m, mha_s = _module(ref, d, "MultiHeadAttention", dict(embed_dim=nh * 2, num_heads=nh))
    gen_m, gen_s = _module(ref, d, "GeneralAttention", dict(query_size=E, key_size=dk))
    return [
        SimpleNamespace(what="scaled_dot_product_attention with a bool mask [B,L,S]", name=None, state=None,
                        kwargs={}, args=(d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)),
                        mask=_random_mask(d, B, L, S), mask_kw="attn_mask", wshape=(B, L, S)),
        SimpleNamespace(what="AdditiveAttention with a bool mask [B,Q,K]", name="AdditiveAttention", state=add_s,
                        kwargs=dict(query_size=E, key_size=dk, hidden_size=hs),
                        args=(d.randn(B, L, E), d.randn(B, S, dk), d.randn(B, S, Ev)),
                        mask=_random_mask(d, B, L, S), mask_kw="mask", wshape=(B, L, S)),
        SimpleNamespace(what="DotProductAttention(scaled=True) with a bool mask [Q,K] (broadcast over the batch)",
                        name="DotProductAttention", state={}, kwargs=dict(scaled=True),
                        args=(d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)),
                        mask=_random_mask(d, L, S), mask_kw="mask", wshape=(B, L, S)),
        SimpleNamespace(what="GeneralAttention with a bool mask [B,Q,K]", name="GeneralAttention",
                        state=gen_s, kwargs=dict(query_size=E, key_size=dk),
                        args=(d.randn(B, L, E), d.randn(B, S, dk), d.randn(B, S, Ev)),
                        mask=_random_mask(d, B, L, S), mask_kw="mask", wshape=(B, L, S)),
        SimpleNamespace(what="MultiHeadAttention with a bool attn_mask [B,L,S]", name="MultiHeadAttention",
                        state=mha_s, kwargs=dict(embed_dim=nh * 2, num_heads=nh),
                        args=(d.randn(B, L, nh * 2), d.randn(B, S, nh * 2), d.randn(B, S, nh * 2)),
                        mask=_random_mask(d, B, L, S), mask_kw="attn_mask", wshape=(B, nh, L, S)),
    ]


def _check_convention(w, mask, what):
    if not torch.isfinite(w).all():
        fail(f"{what}: the weights contain NaN or inf")
    if w.dim() == 4:
        mask = mask.unsqueeze(1)
    mask = mask.expand_as(w)
    at_true = w[mask].abs().max()
    at_false = w[~mask].abs().max()
    sums_ok = torch.allclose(w.sum(-1), torch.ones(w.shape[:-1], dtype=w.dtype), rtol=1e-6, atol=1e-8)
    if at_false <= 1e-12 and sums_ok:
        return
    if at_true <= 1e-12 and at_false > 0:
        fail(f"{what}: the weights are 0 where the mask is True and non-zero where it is False: in this course a "
             "boolean mask means True = may attend (torch's nn.MultiheadAttention uses the opposite convention)")
    if at_false <= 1e-12 and not sums_ok:
        fail(f"{what}: masked keys get weight 0 but the weights of a query no longer sum to 1: the mask is applied "
             "after the softmax; fill the masked scores with -inf before the softmax instead")
    fail(f"{what}: keys where the mask is False get non-zero weight (up to {float(at_false):.3g}): fill the "
         "masked scores with -inf (not 0, not a large negative number) before the softmax")


@check(points=1.5, description="boolean masks: True = may attend; masked keys get weight exactly 0",
       kind="masks", promises=("mask.bool",),
       targets=("scaled_dot_product_attention", "AdditiveAttention", "DotProductAttention", "GeneralAttention",
                "MultiHeadAttention"))
def test_mask_convention(sub, ref, once):
    for c in once(lambda d: _convention_cases(d, ref)):
        if c.name is None:
            r = sub.call("scaled_dot_product_attention", *c.args, **{c.mask_kw: c.mask})
        else:
            m = sub.build(c.name, c.state, **c.kwargs, dtype=F64)
            r = sub.call(m, *c.args, **{c.mask_kw: c.mask})
        _, w = _weights_of(r.value, c.what, c.wshape)
        _check_convention(w, c.mask, c.what)


# ----------------------------------------------------------------------------- fully masked rows
def _ref_grads(fn, args, grads):
    """fn(*args) with every tensor arg requiring grad; (outputs, input grads) after sum(out * g)."""
    leaves = [a.clone().requires_grad_(True) for a in args]
    out = fn(*leaves)
    loss = sum((o * g).sum() for o, g in zip(out, grads) if g is not None)
    loss.backward()
    return tuple(o.detach() for o in out), [x.grad for x in leaves]


def _dead_mask(d, B, L, S):
    m = _random_mask(d, B, L, S)
    rows = d.distinct(min(2, L), 0, L - 1)
    m[0, rows[0]] = False  # a fully masked query row in the first batch item
    m[-1, rows[-1]] = False
    return m


def _dead_cases(d, ref):
    E, Ev, dk, hs = d.distinct(4, 2, 8)
    B, L, S = d.distinct(3, 3, 7)
    nh = d.int(2, 3)
    cases = []
    # sdpa with a bool mask, and with a float mask whose row is all -inf
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, Ev)
    bmask = _dead_mask(d, B, L, S)
    fmask = torch.zeros(B, L, S, dtype=F64).masked_fill(~_dead_mask(d, B, L, S), float("-inf"))
    for mask, kind in ((bmask, "bool"), (fmask, "float (-inf)")):
        g = (d.randn(B, L, Ev), d.randn(B, L, S))
        out, grads = _ref_grads(lambda q, k, v, mask=mask: ref.scaled_dot_product_attention(q, k, v, mask),
                                (q, k, v), g)
        cases.append(SimpleNamespace(what=f"scaled_dot_product_attention with a fully masked row ({kind} mask)",
                                     name=None, state=None, kwargs={}, args=(q, k, v), mask_kw="attn_mask",
                                     mask=mask, g=g, out=out, grads=grads, names=("query", "key", "value")))
    # AdditiveAttention
    mod, st = _module(ref, d, "AdditiveAttention", dict(query_size=E, key_size=dk, hidden_size=hs))
    qa, ka, va = d.randn(B, L, E), d.randn(B, S, dk), d.randn(B, S, Ev)
    mask = _dead_mask(d, B, L, S)
    g = (d.randn(B, L, Ev), d.randn(B, L, S))
    out, grads = _ref_grads(lambda q, k, v: mod(q, k, v, mask), (qa, ka, va), g)
    cases.append(SimpleNamespace(what="AdditiveAttention with a fully masked row", name="AdditiveAttention",
                                 state=st, kwargs=dict(query_size=E, key_size=dk, hidden_size=hs),
                                 args=(qa, ka, va), mask_kw="mask", mask=mask, g=g, out=out, grads=grads,
                                 names=("queries", "keys", "values")))
    # MultiHeadAttention: the row's output is out_proj.bias
    Em = nh * 2
    mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=Em, num_heads=nh))
    qm, km, vm = d.randn(B, L, Em), d.randn(B, S, Em), d.randn(B, S, Em)
    mask = _dead_mask(d, B, L, S)
    g = (d.randn(B, L, Em), d.randn(B, nh, L, S))
    out, grads = _ref_grads(lambda q, k, v: mod(q, k, v, mask), (qm, km, vm), g)
    cases.append(SimpleNamespace(what="MultiHeadAttention with a fully masked row", name="MultiHeadAttention",
                                 state=st, kwargs=dict(embed_dim=Em, num_heads=nh), args=(qm, km, vm),
                                 mask_kw="attn_mask", mask=mask, g=g, out=out, grads=grads,
                                 names=("query", "key", "value")))
    return cases


def _dead_rows(mask):
    m = mask if mask.dtype == torch.bool else torch.isfinite(mask)
    return ~m.any(-1)  # [B, L]


@check(points=1.5, description="a fully masked query row gives weights 0 and context 0, never NaN (also in gradients)",
       kind="masks", promises=("mask.fully-masked", "mha.fully-masked"),
       targets=("scaled_dot_product_attention", "AdditiveAttention", "MultiHeadAttention"))
def test_fully_masked_rows(sub, ref, once):
    for c in once(lambda d: _dead_cases(d, ref)):
        if c.name is None:
            target = "scaled_dot_product_attention"
        else:
            target = sub.build(c.name, c.state, **c.kwargs, dtype=F64)
        r = sub.call(target, *(GradInput(a) for a in c.args), **{c.mask_kw: c.mask}, backward=c.g)
        ctx, w = _weights_of(r.value, c.what, c.out[1].shape)
        dead = _dead_rows(c.mask)
        if w.dim() == 4:
            rows_w = w.transpose(0, 1)[:, dead]  # [nh, n_dead, S]
        else:
            rows_w = w[dead]
        if torch.isnan(rows_w).any():
            fail(f"{c.what}: the weights of the fully masked row are NaN (softmax of a row of -inf is 0/0): give "
                 "such a row weights 0, e.g. replace its scores by 0 before the softmax and its weights by 0 after")
        if rows_w.abs().max() > 1e-12:
            uniform = torch.allclose(rows_w, torch.full_like(rows_w, 1.0 / rows_w.size(-1)), atol=1e-9)
            fail(f"{c.what}: the weights of the fully masked row must be 0, got "
                 + ("uniform weights (masking with a large negative number instead of -inf gives them)"
                    if uniform else f"values up to {float(rows_w.abs().max()):.3g}"))
        expect_tensor(ctx, c.what + ": context", c.out[0].shape)
        if torch.isnan(ctx).any():
            fail(f"{c.what}: the output is NaN for a fully masked query row; it must be "
                 + ("out_proj.bias (context 0 before out_proj)" if c.name == "MultiHeadAttention" else "0"))
        assert_close(w, c.out[1], c.what + ": weights")
        assert_close(ctx, c.out[0], c.what + ": output" + (" (a fully masked row gives out_proj.bias)"
                                                           if c.name == "MultiHeadAttention" else ""))
        for name, got, exp in zip(c.names, r.input_grads, c.grads):
            if got is not None and torch.isnan(got).any():
                fail(f"{c.what}: the gradient w.r.t. the {name} contains NaN (the forward pass must not compute "
                     "0/0 or exp(-inf - -inf) even in a row it zeroes afterwards: zero the scores of fully masked "
                     "rows before the softmax)")
            assert_grad_close(got, exp, f"{c.what}: d loss / d {name}")


# ----------------------------------------------------------------------------- padding and batch independence
def _indep_cases(d, ref):
    nh = d.int(2, 3)
    E = nh * d.int(2, 3)
    B, L, S = d.distinct(3, 3, 7)
    extra = d.int(2, 4)
    mod, st = _module(ref, d, "MultiHeadAttention", dict(embed_dim=E, num_heads=nh))
    q, k, v = d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, E)
    lengths = torch.tensor([d.int(1, S) for _ in range(B)])
    mask = (torch.arange(S)[None, :] < lengths[:, None]).unsqueeze(1)  # [B,1,S]
    kp = torch.cat((k, d.randn(B, extra, E)), 1)
    vp = torch.cat((v, d.randn(B, extra, E)), 1)
    maskp = torch.cat((mask, torch.zeros(B, 1, extra, dtype=torch.bool)), -1)
    b = d.int(0, B - 1)
    q2, k2, v2 = q.clone(), k.clone(), v.clone()
    q2[b], k2[b], v2[b] = d.randn(L, E), d.randn(S, E), d.randn(S, E)
    return SimpleNamespace(kwargs=dict(embed_dim=E, num_heads=nh), state=st, q=q, k=k, v=v, mask=mask, kp=kp,
                           vp=vp, maskp=maskp, b=b, q2=q2, k2=k2, v2=v2, S=S)


@check(points=1, description="padded keys change nothing; one batch item never changes another's output",
       kind="masks", promises=("attn.mask-broadcast", "mask.bool", "layout.batch-first"),
       targets=("MultiHeadAttention",))
def test_padding_and_batch_independence(sub, ref, once):
    c = once(lambda d: _indep_cases(d, ref))
    m = sub.build("MultiHeadAttention", c.state, **c.kwargs, dtype=F64)
    base = expect_tuple(sub.call(m, c.q, c.k, c.v, attn_mask=c.mask).value, "MultiHeadAttention", 2)
    padded = expect_tuple(sub.call(m, c.q, c.kp, c.vp, attn_mask=c.maskp).value, "MultiHeadAttention", 2)
    expect_tensor(base[0], "MultiHeadAttention output", c.q.shape)
    expect_tensor(padded[0], "MultiHeadAttention output with padded keys", c.q.shape)
    if not torch.allclose(padded[0], base[0], rtol=1e-6, atol=1e-8):
        fail("MultiHeadAttention: appending masked (padding) keys and values changed the output at real positions: "
             "masked keys must get weight exactly 0")
    w = expect_tensor(padded[1], "MultiHeadAttention weights")
    if w.dim() == 4 and w[..., c.S:].abs().max() > 1e-12:
        fail("MultiHeadAttention: padding keys get non-zero weight")
    other = expect_tuple(sub.call(m, c.q2, c.k2, c.v2, attn_mask=c.mask).value, "MultiHeadAttention", 2)
    keep = [i for i in range(c.q.size(0)) if i != c.b]
    if not torch.allclose(other[0][keep], base[0][keep], rtol=1e-6, atol=1e-8):
        fail(f"MultiHeadAttention: changing batch item {c.b} changed the output of other batch items: attention "
             "must stay within a batch item (check the reshapes: [B,L,E] -> [B,heads,L,d] and back)")
