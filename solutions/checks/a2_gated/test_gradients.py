"""Hidden checks of LSTM's and GRU's gradients (input, initial states, every parameter) against the reference.

The loss is a random linear function of the output and every final state, so
detached or in-place-modified states show up even where values are right.
"""

from __future__ import annotations


from grader.checks import check, load_cases


cases = load_cases(__file__)


def _cases(d, ref, kind):
    T, B, I, H = cases.sizes(d)
    return [("", cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, grads=True)),
            ("num_layers=2, bidirectional=True, batch_first=True",
             cases.net_case(d, ref, kind, T=T, B=B, I=I, H=H, L=2, bidir=True, batch_first=True, grads=True))]


@check(points=2, description="LSTM's gradients w.r.t. input, (h0, c0) and every parameter (also deep, bidirectional)",
       kind="gradients", promises=("gated.forward", "gated.layers-directions"),
       targets=("LSTM",))
def test_lstm_gradients(sub, ref, once):
    for desc, c in once(lambda d: _cases(d, ref, "LSTM")):
        cases.run_gradients(sub, c, f"LSTM({desc})(x, (h0, c0))")


@check(points=2, description="GRU's gradients w.r.t. input, h0 and every parameter (also deep, bidirectional)",
       kind="gradients", promises=("gated.forward", "gated.layers-directions"),
       targets=("GRU",))
def test_gru_gradients(sub, ref, once):
    for desc, c in once(lambda d: _cases(d, ref, "GRU")):
        cases.run_gradients(sub, c, f"GRU({desc})(x, h0)")
