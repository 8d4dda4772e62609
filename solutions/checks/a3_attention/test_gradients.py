"""Hidden checks of a3_attention: gradients w.r.t. inputs and every parameter equal the reference's.

The loss is a random linear function of both outputs (context and weights), so a
gradient that is cut off (.detach(), .data, torch.no_grad(), a tensor rebuilt from
.tolist()) or wrong shows up here even when the values are right.
"""

from types import SimpleNamespace

import torch

from grader.checks import assert_grad_close, check
from grader.sandbox.wire import GradInput

F64 = torch.float64


def _padding_mask(d, B, K):
    lengths = [d.int(1, K) for _ in range(B)]
    lengths[0] = K
    return (torch.arange(K)[None, :] < torch.tensor(lengths)[:, None]).unsqueeze(1)


def _ref_case(module, args, kwargs, g):
    leaves = [a.clone().requires_grad_(True) for a in args]
    out = module(*leaves, **kwargs)
    sum((o * gi).sum() for o, gi in zip(out, g)).backward()
    params = {n: p.grad.clone() for n, p in module.named_parameters()} if isinstance(module, torch.nn.Module) else {}
    return [x.grad for x in leaves], params


def _case(d, ref, name, kwargs, args, call_kwargs, names, what):
    if name == "scaled_dot_product_attention":
        module, state = ref.scaled_dot_product_attention, None
    else:
        module = getattr(ref, name)(**kwargs).to(F64)
        state = d.perturb_state(module, 0.5)
        module.load_state_dict(state)
    with torch.no_grad():
        out = module(*args, **call_kwargs)
    g = tuple(d.randn(*o.shape) for o in out)
    in_grads, p_grads = _ref_case(module, args, call_kwargs, g)
    return SimpleNamespace(name=name, kwargs=kwargs, state=state, args=args, call_kwargs=call_kwargs, g=g,
                           in_grads=in_grads, p_grads=p_grads, names=names, what=what)


def _run(sub, c):
    target = c.name if c.state is None else sub.build(c.name, c.state, **c.kwargs, dtype=F64)
    r = sub.call(target, *(GradInput(a) for a in c.args), **c.call_kwargs, backward=c.g)
    for n, got, exp in zip(c.names, r.input_grads, c.in_grads):
        assert_grad_close(got, exp, f"{c.what}: d loss / d {n}")
    for n, exp in c.p_grads.items():
        assert_grad_close(r.param_grads.get(n), exp, f"{c.what}: d loss / d {n}")


def _additive(d, ref):
    dq, dk, dv, hs = d.distinct(4, 2, 8)
    B, Q, K = d.distinct(3, 2, 6)
    args = (d.randn(B, Q, dq), d.randn(B, K, dk), d.randn(B, K, dv))
    return _case(d, ref, "AdditiveAttention", dict(query_size=dq, key_size=dk, hidden_size=hs), args,
                 dict(mask=_padding_mask(d, B, K)), ("queries", "keys", "values"), "AdditiveAttention")


@check(points=0.5, description="AdditiveAttention: gradients w.r.t. queries, keys, values, W_q, W_k, w_v",
       kind="gradients", promises=("additive.math",),
       targets=("AdditiveAttention",))
def test_additive_gradients(sub, ref, once):
    _run(sub, once(lambda d: _additive(d, ref)))


def _general(d, ref):
    dq, dk, dv = d.distinct(3, 2, 8)
    B, Q, K = d.distinct(3, 2, 6)
    args = (d.randn(B, Q, dq), d.randn(B, K, dk), d.randn(B, K, dv))
    return _case(d, ref, "GeneralAttention", dict(query_size=dq, key_size=dk), args,
                 dict(mask=_padding_mask(d, B, K)), ("queries", "keys", "values"), "GeneralAttention")


@check(points=0.5, description="GeneralAttention: gradients w.r.t. queries, keys, values and W",
       kind="gradients", promises=("general.math",),
       targets=("GeneralAttention",))
def test_general_gradients(sub, ref, once):
    _run(sub, once(lambda d: _general(d, ref)))


def _sdpa(d, ref):
    E, Ev = d.distinct(2, 2, 8)
    B, L, S = d.distinct(3, 2, 6)
    h = d.int(2, 3)
    args = (d.randn(B, h, L, E), d.randn(B, h, S, E), d.randn(B, h, S, Ev))
    mask = _padding_mask(d, B, S).unsqueeze(1)  # [B,1,1,S]
    return _case(d, ref, "scaled_dot_product_attention", {}, args, dict(attn_mask=mask, is_causal=L <= S),
                 ("query", "key", "value"), "scaled_dot_product_attention")


@check(points=1, description="scaled_dot_product_attention: gradients w.r.t. query, key and value",
       kind="gradients", promises=("sdpa.math", "sdpa.mask-and-causal"),
       targets=("scaled_dot_product_attention",))
def test_sdpa_gradients(sub, ref, once):
    _run(sub, once(lambda d: _sdpa(d, ref)))


def _dot(d, ref):
    E, Ev = d.distinct(2, 2, 8)
    B, Q, K = d.distinct(3, 2, 6)
    args = (d.randn(B, Q, E), d.randn(B, K, E), d.randn(B, K, Ev))
    return _case(d, ref, "DotProductAttention", dict(scaled=True), args, dict(mask=_padding_mask(d, B, K)),
                 ("queries", "keys", "values"), "DotProductAttention(scaled=True)")


@check(points=0.5, description="DotProductAttention: gradients w.r.t. queries, keys and values",
       kind="gradients", promises=("dot.math",), targets=("DotProductAttention",))
def test_dot_product_gradients(sub, ref, once):
    _run(sub, once(lambda d: _dot(d, ref)))


def _mha(d, ref):
    nh, hd = d.distinct(2, 2, 4)
    B, L, S = d.distinct(3, 2, 6)
    E = nh * hd
    args = (d.randn(B, L, E), d.randn(B, S, E), d.randn(B, S, E))
    return _case(d, ref, "MultiHeadAttention", dict(embed_dim=E, num_heads=nh), args,
                 dict(attn_mask=_padding_mask(d, B, S)), ("query", "key", "value"), f"MultiHeadAttention({E}, {nh})")


@check(points=1.5, description="MultiHeadAttention: gradients w.r.t. query, key, value and every parameter",
       kind="gradients", promises=("mha.forward", "mha.params"),
       targets=("MultiHeadAttention",))
def test_mha_gradients(sub, ref, once):
    _run(sub, once(lambda d: _mha(d, ref)))
