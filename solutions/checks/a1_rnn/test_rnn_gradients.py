"""Hidden checks of RNN's gradients (w.r.t. the input, hx and every parameter) against the reference.

The loss is a random linear function of output and h_n, so every output
element matters. These catch .detach(), .data, torch.no_grad() and in-place
writes that break autograd, which value checks cannot see.
"""

from __future__ import annotations


from grader.checks import check, load_cases


cases = load_cases(__file__)


def _case(d, ref, **kw):
    T, B, I, H = cases.sizes(d)
    return cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, grads=True, **kw)


@check(points=2, description="RNN (one layer): gradients w.r.t. input, hx and every parameter",
       kind="gradients", promises=("rnn.forward", "rnn.params"),
       targets=("RNN",))
def test_rnn_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref))
    cases.run_gradients(sub, c, "RNN(x, hx)")


@check(points=2, description="RNN (two layers, bidirectional, batch_first): gradients w.r.t. input, hx, parameters",
       kind="gradients", promises=("rnn.forward", "rnn.layers-directions", "layout.time-first"),
       targets=("RNN",))
def test_rnn_gradients_deep(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=2, bidir=True, batch_first=True))
    cases.run_gradients(sub, c, "RNN(num_layers=2, bidirectional=True, batch_first=True)(x, hx)")
