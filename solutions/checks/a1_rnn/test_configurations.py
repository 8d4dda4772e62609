"""Hidden checks of a1_rnn in the configurations short checks leave out, each built into its case:
three layers (with and without both directions, with and without hx, relu without biases),
sequences of length one, batches of one, float32 BPTT, and inputs that are non-contiguous views.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail, load_cases, view_hint
from grader.sandbox.wire import Strided

cases = load_cases(__file__)


def _require(condition: bool, what: str) -> None:
    """The case must contain its situation (a broken case would test nothing)."""
    if not condition:
        raise RuntimeError(f"internal error: the check's case lacks its situation ({what})")


# ----------------------------------------------------------------------------- three layers
def _deep_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    out = [
        ("RNN(num_layers=3, bidirectional=True)(x, hx)",
         cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, L=3, bidir=True)),
        ("RNN(num_layers=3)(x) without hx",
         cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, L=3, hx=False)),
        ("RNN(num_layers=3, bidirectional=True, nonlinearity='relu', bias=False, batch_first=True)(x)",
         cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, L=3, bidir=True, nonlinearity="relu", bias=False,
                        batch_first=True, hx=False)),
    ]
    for _, c in out:
        _require(c.L >= 3 and c.T > 1 and c.B > 1, "three layers, T > 1, B > 1")
    _require({c.bidir for _, c in out} == {True, False} and {c.h0 is None for _, c in out} == {True, False},
             "with and without both directions and hx")
    return out


@check(points=2, description="RNN with three layers: bidirectional or not, with or without hx, relu and "
                             "bias=False", kind="values",
       promises=("rnn.layers-directions", "rnn.initial-state", "rnn.options", "rnn.hx-layout"), targets=("RNN",))
def test_rnn_three_layers(sub, ref, once):
    for what, c in once(lambda d: _deep_cases(d, ref)):
        cases.run_values(sub, c, what)


# ----------------------------------------------------------------------------- non-contiguous inputs
def _strided_cases(d, ref):
    T, B, I, H = cases.sizes(d)
    rnn = cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, L=2, bidir=True, variants=False)
    cell = ref.RNNCell(I, H).double()
    cell_state = d.perturb_state(cell, 0.6)
    cell.load_state_dict(cell_state)
    x, h = d.randn(B, I), d.randn(B, H)
    bx, bh0 = d.randn(T, B, I), d.randn(B, H)
    w_ih, w_hh, b = d.uniform(H, I, lo=-0.7, hi=0.7), d.uniform(H, H, lo=-0.7, hi=0.7), d.uniform(H)
    G = d.randn(T, B, H)
    leaves = [t.clone().requires_grad_() for t in (bx, bh0, w_ih, w_hh, b)]
    hs, _ = ref.rnn_forward(*leaves)
    grads = torch.autograd.grad(hs, leaves, G)
    return SimpleNamespace(rnn=rnn, cell_kwargs=dict(input_size=I, hidden_size=H), cell_state=cell_state,
                           x=x, h=h, cell_out=cell(x, h).detach(), bptt_args=(bx, bh0, w_ih, w_hh, b), G=G,
                           hs=hs.detach(), grads=grads)


@check(points=1, description="RNN, RNNCell, rnn_forward and rnn_backward accept non-contiguous views "
                             "(transposed, sliced) as inputs", kind="values",
       promises=("input.non-contiguous", "rnn.forward", "rnncell.forward", "bptt.backward"),
       targets=("RNN", "RNNCell", "rnn_forward", "rnn_backward"))
def test_noncontiguous_inputs(sub, ref, once):
    c = once(lambda d: _strided_cases(d, ref))
    what = "RNN(num_layers=2, bidirectional=True)(x, hx) with x a transposed view and hx a sliced one"
    m = cases.build(sub, c.rnn)
    got = sub.call(m, Strided(c.rnn.x, "transposed"), Strided(c.rnn.h0, "sliced")).value
    with view_hint():
        cases.check_result(got, c.rnn, what)
    cell = sub.build("RNNCell", c.cell_state, **c.cell_kwargs, dtype=torch.float64)
    got = sub.call(cell, Strided(c.x, "sliced"), Strided(c.h, "transposed")).value
    with view_hint():
        assert_close(got, c.cell_out, "RNNCell(x, h) with x a sliced view and h a transposed one")
    x, h0, w_ih, w_hh, b = c.bptt_args
    r = sub.call("rnn_forward", Strided(x, "transposed"), h0, Strided(w_ih, "sliced"), w_hh, b, keep=True)
    hs, _ = expect_tuple(r.value, "rnn_forward(...) result (hs, cache)", 2)
    with view_hint():
        assert_close(hs, c.hs, "rnn_forward: hs for a transposed x")
    grads = expect_tuple(sub.call("rnn_backward", Strided(c.G, "transposed"), r.ref[1]).value,
                         "rnn_backward(...) result", 5)
    for name, g, e in zip(("dx", "dh0", "dweight_ih", "dweight_hh", "dbias"), grads, c.grads):
        with view_hint():
            assert_close(g, e, f"rnn_backward: {name} for a transposed x and grad_hs")


# ----------------------------------------------------------------------------- BPTT in float32, B = 1, T = 1
def _bptt_cases(d):
    out = []
    for what, T, B, dtype in (("float32", d.int(3, 6), d.int(2, 4), torch.float32),
                              ("a batch of one", d.int(3, 6), 1, torch.float64),
                              ("a sequence of length one and a batch of one", 1, 1, torch.float64)):
        I, H = d.distinct(2, 2, 7)
        args = [d.randn(T, B, I), d.randn(B, H), d.uniform(H, I, lo=-0.7, hi=0.7), d.uniform(H, H, lo=-0.7, hi=0.7),
                d.uniform(H)]
        args = [a.to(dtype) for a in args]
        G = d.randn(T, B, H).to(dtype)
        leaves = [a.clone().requires_grad_() for a in args]
        hs = []
        h = leaves[1]
        for t in range(T):  # autograd through the math itself: an independent reference
            h = torch.tanh(leaves[0][t] @ leaves[2].t() + h @ leaves[3].t() + leaves[4])
            hs.append(h)
        hs = torch.stack(hs)
        grads = torch.autograd.grad(hs, leaves, G)
        out.append(SimpleNamespace(what=what, T=T, B=B, I=I, H=H, dtype=dtype, args=tuple(args), G=G,
                                   hs=hs.detach(), grads=grads))
    _require(any(c.T == 1 for c in out) and any(c.B == 1 for c in out) and any(c.dtype == torch.float32 for c in out),
             "T = 1, B = 1 and float32")
    return out


@check(points=1, description="rnn_forward and rnn_backward in float32, with a batch of one and a sequence of "
                             "length one: shapes, dtypes and values", kind="shapes",
       promises=("bptt.forward", "bptt.backward", "dtype.float32-float64", "batch.any", "length.one"),
       targets=("rnn_forward", "rnn_backward"))
def test_bptt_shapes(sub, once):
    for c in once(_bptt_cases):
        what = f"rnn_forward/rnn_backward with {c.what} (T={c.T}, B={c.B})"
        r = sub.call("rnn_forward", *c.args, keep=True)
        hs, _ = expect_tuple(r.value, f"{what}: rnn_forward's result (hs, cache)", 2)
        expect_tensor(hs, f"{what}: hs", (c.T, c.B, c.H), c.dtype)
        grads = expect_tuple(sub.call("rnn_backward", c.G, r.ref[1]).value, f"{what}: rnn_backward's result", 5)
        shapes = dict(dx=(c.T, c.B, c.I), dh0=(c.B, c.H), dweight_ih=(c.H, c.I), dweight_hh=(c.H, c.H), dbias=(c.H,))
        for (name, shape), g in zip(shapes.items(), grads):
            if isinstance(g, torch.Tensor) and g.numel() == int(torch.tensor(shape).prod()) and \
                    tuple(g.shape) != shape:
                fail(f"{what}: {name} should have shape {shape}, got {tuple(g.shape)} (a squeeze() or a reshape "
                     "that drops a dimension of size 1?)")
            expect_tensor(g, f"{what}: {name}", shape, c.dtype)
        assert_close(hs, c.hs, f"{what}: hs")
        for name, g, e in zip(shapes, grads, c.grads):
            assert_close(g, e, f"{what}: {name}")
