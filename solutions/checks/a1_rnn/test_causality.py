"""Hidden property checks of RNN: causality, padding at the end, and batch independence.

These compare the submission with itself, so they hold whatever the weights:
a unidirectional RNN's output at step t depends on x_0..x_t only; appending
steps never changes earlier outputs; changing one batch item never changes
another's outputs or final states.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail


def _model(d, ref, **kw):
    T, B, I, H = d.distinct(4, 3, 9)
    kwargs = dict(input_size=I, hidden_size=H, **kw)
    state = d.perturb_state(ref.RNN(**kwargs).double(), 0.6)
    return SimpleNamespace(kwargs=kwargs, state=state, T=T, B=B, I=I, H=H)


def _run(sub, m, *args):
    out, h_n = expect_tuple(sub.call(m, *args).value, "RNN(...) result (output, h_n)", 2)
    return expect_tensor(out, "RNN output"), expect_tensor(h_n, "RNN h_n")


def _causal_case(d, ref):
    c = _model(d, ref, num_layers=2)
    c.x = d.randn(c.T, c.B, c.I)
    c.h0 = d.randn(2, c.B, c.H)
    c.t0 = d.int(1, c.T - 1)
    c.x2 = c.x.clone()
    c.x2[c.t0:] = d.randn(c.T - c.t0, c.B, c.I)
    c.x_long = torch.cat([c.x, d.randn(d.int(2, 5), c.B, c.I)])
    return c


@check(points=1, description="RNN is causal: the output at step t does not depend on inputs after t, "
                             "and appending steps does not change earlier outputs",
       kind="properties", promises=("rnn.forward", "layout.time-first"),
       targets=("RNN",))
def test_rnn_causality(sub, ref, once):
    c = once(lambda d: _causal_case(d, ref))
    m = sub.build("RNN", c.state, **c.kwargs, dtype=torch.float64)
    out, _ = _run(sub, m, c.x, c.h0)
    out2, _ = _run(sub, m, c.x2, c.h0)
    if out.shape != out2.shape or out.shape[0] != c.T:
        fail(f"RNN output should have shape ({c.T}, {c.B}, {c.H}), got {tuple(out.shape)}")
    diff = (out2[:c.t0] - out[:c.t0]).abs().amax(dim=(1, 2))
    if (diff > 1e-10).any():
        t = int((diff > 1e-10).nonzero()[0])
        fail(f"RNN output at step t = {t} changed when only the inputs at steps >= {c.t0} changed: a "
             f"(unidirectional) RNN's output at step t may depend on x_0..x_t only. Run the recurrence "
             f"forwards, t = 0, 1, ..., T-1, and do not mix time steps (e.g. by reshaping across time)")
    long_out, _ = _run(sub, m, c.x_long, c.h0)
    if long_out.shape[0] != c.x_long.shape[0]:
        fail(f"RNN output should have {c.x_long.shape[0]} steps for an input of {c.x_long.shape[0]} steps, "
             f"got {long_out.shape[0]}")
    assert_close(long_out[:c.T], out, "RNN output at the first T steps after appending steps at the end "
                 "(it must not change: later steps cannot influence earlier outputs)")


def _batch_case(d, ref):
    c = _model(d, ref, num_layers=2, bidirectional=True, batch_first=True)
    c.x = d.randn(c.B, c.T, c.I)
    c.h0 = d.randn(4, c.B, c.H)
    c.j = d.int(0, c.B - 1)
    c.x2, c.h02 = c.x.clone(), c.h0.clone()
    c.x2[c.j] = d.randn(c.T, c.I)
    c.h02[:, c.j] = d.randn(4, c.H)
    return c


@check(points=1, description="RNN treats batch items independently (changing one item changes no other's outputs)",
       kind="properties", promises=("layout.time-first", "rnn.layers-directions"),
       targets=("RNN",))
def test_rnn_batch_independence(sub, ref, once):
    c = once(lambda d: _batch_case(d, ref))
    m = sub.build("RNN", c.state, **c.kwargs, dtype=torch.float64)
    out, h_n = _run(sub, m, c.x, c.h0)
    out2, h_n2 = _run(sub, m, c.x2, c.h02)
    if out.shape != (c.B, c.T, 2 * c.H) or h_n.shape != (4, c.B, c.H):
        fail(f"RNN(batch_first=True, num_layers=2, bidirectional=True): expected output {(c.B, c.T, 2 * c.H)} "
             f"and h_n {(4, c.B, c.H)}, got {tuple(out.shape)} and {tuple(h_n.shape)}")
    keep = [b for b in range(c.B) if b != c.j]
    for what, a, b in (("output", out[keep], out2[keep]), ("h_n", h_n[:, keep], h_n2[:, keep])):
        if not torch.allclose(a, b, rtol=1e-9, atol=1e-10):
            fail(f"RNN {what} of other batch items changed when only item {c.j} (its input and hx) changed: "
                 f"batch items must not mix. With batch_first=True, swap the batch and time dimensions "
                 f"with transpose/permute, not reshape/view")
