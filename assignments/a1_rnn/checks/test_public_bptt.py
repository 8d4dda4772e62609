"""Public checks of rnn_forward and rnn_backward (back-propagation through time by hand).

Two references: expected outputs for fixed inputs shipped in
data/rnn_bptt.safetensors, and autograd through torch.nn.RNN (whose b_ih + b_hh
plays the role of rnn_forward's single bias) on random sizes.
"""

from __future__ import annotations

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, load_tensors

NAMES = ("dx", "dh0", "dweight_ih", "dweight_hh", "dbias")


def _run(sub, args, G, what):
    r = sub.call("rnn_forward", *args, keep=True)
    hs, _ = expect_tuple(r.value, f"{what}: rnn_forward result (hs, cache)", 2)
    T, B, _ = args[0].shape
    H = args[1].shape[-1]
    expect_tensor(hs, f"{what}: rnn_forward hs", (T, B, H), torch.float64)
    grads = expect_tuple(sub.call("rnn_backward", G, r.ref[1]).value,
                         f"{what}: rnn_backward result (dx, dh0, dweight_ih, dweight_hh, dbias)", 5)
    return hs, grads


def _torch_case(d):
    T, B, I, H = d.distinct(4, 2, 9)
    rnn = torch.nn.RNN(I, H).double()
    state = d.perturb_state(rnn, 0.6)
    state["bias_hh_l0"] = torch.zeros(H, dtype=torch.float64)
    rnn.load_state_dict(state)
    x, h0, G = d.randn(T, B, I), d.randn(B, H), d.randn(T, B, H)
    xg, hg = x.clone().requires_grad_(), h0.clone().requires_grad_()
    hs, _ = rnn(xg, hg[None])
    hs.backward(G)
    args = (x, h0, state["weight_ih_l0"], state["weight_hh_l0"], state["bias_ih_l0"])
    grads = (xg.grad, hg.grad, rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad)
    return args, G, hs.detach(), grads


@check(points=1, description="rnn_forward and rnn_backward match the expected values for fixed inputs",
       kind="values", promises=("bptt.forward", "bptt.backward", "values.tolerance"),
       targets=("rnn_forward", "rnn_backward"))
def test_public_rnn_backward_fixed(sub):
    data = load_tensors(__file__, "rnn_bptt.safetensors")
    args = tuple(data[k] for k in ("x", "h0", "weight_ih", "weight_hh", "bias"))
    hs, grads = _run(sub, args, data["grad_hs"], "fixed inputs")
    assert_close(hs, data["hs"], "rnn_forward: hs (fixed inputs)")
    for name, g in zip(NAMES, grads):
        assert_close(g, data[name], f"rnn_backward: {name} (fixed inputs)")


@check(points=1, description="rnn_backward equals autograd through torch.nn.RNN on random sizes",
       kind="gradients", promises=("bptt.backward", "bptt.by-hand"),
       targets=("rnn_forward", "rnn_backward"))
def test_public_rnn_backward(sub, once):
    args, G, hs_ref, expected = once(_torch_case)
    hs, grads = _run(sub, args, G, "random inputs")
    assert_close(hs, hs_ref, "rnn_forward: hs (compared with torch.nn.RNN)")
    for name, g, e in zip(NAMES, grads, expected):
        assert_close(g, e, f"rnn_backward: {name} (compared with autograd through torch.nn.RNN)")
