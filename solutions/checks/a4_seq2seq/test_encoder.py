"""Hidden checks of Encoder: values, padding and gradients against the reference.

Ragged batches in no particular order (one full row, one of length 1), every
cell type, one and two layers. The embedding of the pad token is not zero here
(the weights are redrawn), so running the RNN over the padding is visible in
the final state.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, expect_tuple, fail, load_cases
from grader.sandbox.wire import GradInput


cases = load_cases(__file__)
CONFIGS = (("gru", 2), ("lstm", 2), ("rnn", 1))


def _encoder_case(d, ref, cell, L, grads=False):
    V, E, H = cases.sizes(d)
    B = d.int(3, 5)
    S = B if cell == "gru" else d.int(3, 7)  # B == S once: a batch/time mix-up keeps the shapes
    kw = cases.kwargs_of(V, E, H, L, cell)
    m, state = cases.loaded(ref.Encoder(**kw), d, 0.6)
    src, lengths = cases.ragged(d, B, S, V)
    c = SimpleNamespace(kw=kw, state=state, src=src, lengths=lengths, cell=cell, L=L, B=B, S=S, H=H,
                        what=f"Encoder ({cases.cell_name(cell, L)})")
    with torch.set_grad_enabled(grads):
        out, st = m(src, lengths)
        if grads:
            c.g_out = d.randn(*out.shape)
            c.g_state = cases.state_map(st, lambda s: d.randn(*s.shape))
            parts = st if isinstance(st, tuple) else (st,)
            gparts = c.g_state if isinstance(c.g_state, tuple) else (c.g_state,)
            torch.autograd.backward([out, *parts], [c.g_out, *gparts])
            c.grads = cases.param_grads(m)
    c.out, c.st = out.detach(), cases.detach(st)
    with torch.no_grad():
        # The mistake: run the RNN over the padded batch and keep its last state.
        full_out, full_st = m.rnn(m.embedding(src))
    c.full_out, c.full_st = full_out, full_st
    return c


def _cases_for(d, ref, grads=False):
    return [_encoder_case(d.child(cell), ref, cell, L, grads) for cell, L in CONFIGS]


@check(points=2, description="Encoder: outputs and final state equal the reference's on ragged batches "
                             "(GRU, LSTM, RNN; one and two layers)",
       kind="values", promises=("encoder.modules", "encoder.final-state", "encoder.padding"),
       targets=("Encoder",))
def test_encoder_values(sub, ref, once):
    for c in once(lambda d: _cases_for(d, ref)):
        m = sub.build("Encoder", c.state, **c.kw, dtype=torch.float64)
        value = sub.call(m, c.src, c.lengths).value
        out, st = expect_tuple(value, f"{c.what}: the result (outputs, state)", 2)
        mask = cases.mask_of(c.lengths, c.S).unsqueeze(-1)
        expect_tensor(out, f"{c.what}: outputs", c.out.shape, torch.float64)
        assert_close(out, c.out, f"{c.what}: outputs", diagnoses=[
            (lambda a, e: cases.near(a * mask, e) and not cases.near(a, e),
             "your outputs are right at the real tokens but not 0 at padded positions: the contract wants "
             "exactly 0 there (pad_packed_sequence gives that, or multiply by the mask)"),
            (lambda a, e: cases.near(a, c.full_out * mask) and not cases.near(a, e),
             "your outputs match an RNN run on the padded batch only for the longest sequences: the "
             "padding must not be read (pack the batch with pack_padded_sequence(..., enforce_sorted=False))"),
        ])
        cases.compare_state(st, c.st, c.cell, f"{c.what}: final state", variants=[
            (c.full_st, "your final state is the state after the last column, i.e. after the padding: "
                        "take the state after each sequence's last real token (pack the batch with "
                        "pack_padded_sequence(..., enforce_sorted=False), or step through time and only "
                        "update rows that are still running)")])


def _padding_case(d, ref):
    cell = d.choice(["gru", "lstm"])
    c = _encoder_case(d, ref, cell, 2)
    k = d.int(1, 3)
    c.src_more = torch.cat([c.src, c.src.new_zeros(c.B, k)], 1)  # more padding after every row
    return c


@check(points=1, description="Encoder: outputs exactly 0 at padding, and appending padding changes nothing",
       kind="masks", promises=("encoder.padding", "pad.zero"),
       targets=("Encoder",))
def test_encoder_padding(sub, ref, once):
    c = once(lambda d: _padding_case(d, ref))
    m = sub.build("Encoder", c.state, **c.kw, dtype=torch.float64)
    out, st = expect_tuple(sub.call(m, c.src, c.lengths).value, f"{c.what}: the result (outputs, state)", 2)
    out = expect_tensor(out, f"{c.what}: outputs", c.out.shape, torch.float64)
    pad = ~cases.mask_of(c.lengths, c.S)
    if (out[pad] != 0).any():
        b, s = (int(i) for i in pad.nonzero()[(out[pad] != 0).any(-1).nonzero()[0, 0]])
        fail(f"{c.what}: outputs at padded positions must be exactly 0; row {b} (length "
             f"{int(c.lengths[b])}) has non-zero outputs at position {s}")
    out2, st2 = expect_tuple(sub.call(m, c.src_more, c.lengths).value, f"{c.what}: the result", 2)
    out2 = expect_tensor(out2, f"{c.what}: outputs with more padding", (c.B, c.src_more.size(1), c.H))
    assert_close(out2[:, :c.S], out, f"{c.what}: outputs after appending pad columns to src (they must "
                                     "not change)")
    parts, _ = cases.state_parts(st, c.cell, c.what + ": final state")
    parts2, names = cases.state_parts(st2, c.cell, c.what + ": final state with more padding")
    for a, b, n in zip(parts2, parts, names):
        assert_close(a, b, f"{c.what}: final state {n} after appending pad columns to src (it must be the "
                           "state after each sequence's last real token, so padding cannot change it)")
    # The top layer's h is the output at the last real token.
    last = out[torch.arange(c.B), c.lengths - 1]
    assert_close(parts[0][-1], last, f"{c.what}: top layer of the final h vs the output at each sequence's "
                                     "last real token (they are the same vector)")


@check(points=1, description="Encoder: gradients of every parameter equal the reference's",
       kind="gradients", promises=("encoder.modules",),
       targets=("Encoder",))
def test_encoder_gradients(sub, ref, once):
    for c in once(lambda d: _cases_for(d, ref, grads=True)):
        m = sub.build("Encoder", c.state, **c.kw, dtype=torch.float64)
        r = sub.call(m, c.src, c.lengths, backward=(c.g_out, c.g_state))
        for name, g in c.grads.items():
            if g is None:
                continue
            assert_grad_close(r.param_grads.get(name), g, f"{c.what}: d loss / d {name}")
