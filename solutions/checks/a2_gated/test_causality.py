"""Hidden property checks of LSTM and GRU: causality, appending steps, and batch independence.

They compare the submission with itself: a unidirectional network's output at
step t depends on x_0..x_t only; appending steps never changes earlier
outputs; changing one batch item never changes another's outputs or states.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, expect_tuple, fail

KINDS = ("LSTM", "GRU")


def _states(kind, d, *shape):
    s = tuple(d.randn(*shape) for _ in range(2 if kind == "LSTM" else 1))
    return s if kind == "LSTM" else s[0]


def _run(sub, m, kind, *args):
    out, st = expect_tuple(sub.call(m, *args).value, f"{kind}(...) result", 2)
    st = expect_tuple(st, f"{kind}: (h_n, c_n)", 2) if kind == "LSTM" else (st,)
    return expect_tensor(out, f"{kind} output"), [expect_tensor(s, f"{kind} final state") for s in st]


def _causal_case(d, ref, kind):
    T, B, I, H = d.distinct(4, 3, 8)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=2)
    c = SimpleNamespace(kwargs=kwargs, state=d.perturb_state(getattr(ref, kind)(**kwargs).double(), 0.6),
                        T=T, B=B, H=H, x=d.randn(T, B, I), s0=_states(kind, d, 2, B, H), t0=d.int(1, T - 1))
    c.x2 = c.x.clone()
    c.x2[c.t0:] = d.randn(T - c.t0, B, I)
    c.x_long = torch.cat([c.x, d.randn(d.int(2, 5), B, I)])
    return c


@check(points=1, description="LSTM and GRU are causal: outputs at step t do not depend on later inputs; "
                             "appending steps does not change earlier outputs",
       kind="properties", promises=("gated.forward", "layout.time-first"),
       targets=("LSTM", "GRU"))
def test_causality(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _causal_case(d, ref, kind), key=kind)
        m = sub.build(kind, c.state, **c.kwargs, dtype=torch.float64)
        out, _ = _run(sub, m, kind, c.x, c.s0)
        out2, _ = _run(sub, m, kind, c.x2, c.s0)
        if out.shape != (c.T, c.B, c.H) or out2.shape != out.shape:
            fail(f"{kind} output should have shape {(c.T, c.B, c.H)}, got {tuple(out.shape)}")
        diff = (out2[:c.t0] - out[:c.t0]).abs().amax(dim=(1, 2))
        if (diff > 1e-10).any():
            t = int((diff > 1e-10).nonzero()[0])
            fail(f"{kind} output at step t = {t} changed when only the inputs at steps >= {c.t0} changed: a "
                 f"unidirectional {kind}'s output at step t may depend on x_0..x_t only. Run the recurrence "
                 f"forwards, t = 0, 1, ..., T-1, and do not mix time steps")
        long_out, _ = _run(sub, m, kind, c.x_long, c.s0)
        if long_out.shape[0] != c.x_long.shape[0]:
            fail(f"{kind} output should have {c.x_long.shape[0]} steps, got {long_out.shape[0]}")
        assert_close(long_out[:c.T], out, f"{kind} output at the first T steps after appending steps at the "
                     f"end (it must not change: later steps cannot influence earlier outputs)")


def _batch_case(d, ref, kind):
    T, B, I, H = d.distinct(4, 3, 8)
    kwargs = dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True, batch_first=True)
    c = SimpleNamespace(kwargs=kwargs, state=d.perturb_state(getattr(ref, kind)(**kwargs).double(), 0.6),
                        T=T, B=B, H=H, x=d.randn(B, T, I), s0=_states(kind, d, 4, B, H), j=d.int(0, B - 1))
    c.x2 = c.x.clone()
    c.x2[c.j] = d.randn(T, I)
    c.s02 = tuple(s.clone() for s in c.s0) if kind == "LSTM" else c.s0.clone()
    for s in (c.s02 if kind == "LSTM" else (c.s02,)):
        s[:, c.j] = d.randn(4, H)
    return c


@check(points=1, description="LSTM and GRU treat batch items independently (changing one changes no other's results)",
       kind="properties", promises=("layout.time-first", "gated.layers-directions"),
       targets=("LSTM", "GRU"))
def test_batch_independence(sub, ref, once):
    for kind in KINDS:
        c = once(lambda d: _batch_case(d, ref, kind), key=kind)
        m = sub.build(kind, c.state, **c.kwargs, dtype=torch.float64)
        out, st = _run(sub, m, kind, c.x, c.s0)
        out2, st2 = _run(sub, m, kind, c.x2, c.s02)
        if out.shape != (c.B, c.T, 2 * c.H) or any(s.shape != (4, c.B, c.H) for s in st):
            fail(f"{kind}(batch_first=True, num_layers=2, bidirectional=True): expected output "
                 f"{(c.B, c.T, 2 * c.H)} and states {(4, c.B, c.H)}, got {tuple(out.shape)} and "
                 f"{[tuple(s.shape) for s in st]}")
        keep = [b for b in range(c.B) if b != c.j]
        pairs = [("output", out[keep], out2[keep])] + [("final state", a[:, keep], b[:, keep])
                                                       for a, b in zip(st, st2)]
        for what, a, b in pairs:
            if not torch.allclose(a, b, rtol=1e-9, atol=1e-10):
                fail(f"{kind} {what} of other batch items changed when only item {c.j} (its input and initial "
                     f"states) changed: batch items must not mix. With batch_first=True, swap the batch and "
                     f"time dimensions with transpose/permute, not reshape/view")
