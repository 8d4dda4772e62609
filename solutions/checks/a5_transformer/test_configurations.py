"""Hidden checks of a5_transformer in the configurations short checks leave out, each built into its case:
sequences of 512+ positions (the Transformer's encoder and decoder, an encoder layer with padding,
greedy decoding of a long padded source), the Transformer's parallelism, float masks of every shape in
the layers (-inf rows included) with one head and with head size 1, greedy decoding that ignores source
padding, batches and sequences of length one, float32 decoding, and inputs that are non-contiguous views.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import torch

from grader.checks import assert_close, check, expect_tensor, fail, load_cases, view_hint
from grader.checks.parallel import counted_ops
from grader.sandbox.wire import Strided

cases = load_cases(__file__)

F32, F64 = torch.float32, torch.float64


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"internal error: the check's case lacks its situation ({what})")


def _module(ref, d, name, *args, scale=0.5):
    m = getattr(ref, name)(*args).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    return m.eval(), state


def _padded(d, B, L, V, lengths):
    tokens = d.randint(1, V, (B, L))
    return tokens.masked_fill(torch.arange(L)[None, :] >= torch.tensor(lengths)[:, None], 0)


def _stable(m, state, fn, d) -> bool:
    noisy = {k: (v + 1e-7 * d.randn(*v.shape) if v.is_floating_point() else v) for k, v in state.items()}
    other = copy.deepcopy(m)
    other.load_state_dict(noisy)
    return torch.equal(fn(m), fn(other))


# ----------------------------------------------------------------------------- 512+ positions
def _long_case(d, ref):
    """float32 and one head keep the 512+ x 512+ attentions cheap; both sequences end with padding."""
    S, T = d.int(520, 540), d.int(520, 530)
    Vs, Vt = d.distinct(2, 6, 10)
    E, nh = 4, 1
    args = (Vs, Vt, E, nh, 1, 1, d.int(3, 6))
    m, state = _module(ref, d, "Transformer", *args)
    m, state = m.float(), {k: v.float() for k, v in state.items()}
    src = _padded(d, 1, S, Vs, [S - d.int(20, 300)])
    tgt = _padded(d, 1, T, Vt, [T - d.int(1, 200)])
    tgt[:, 0] = 1
    with torch.no_grad():
        logits = m(src, tgt)
    for attempt in range(30):  # greedy decoding of the long source: tokens that vary and no near tie
        dd = d.child("greedy", attempt)
        gm = ref.Transformer(*args).to(F64).eval()
        gstate = cases.decoding_state(dd, gm)
        gm.load_state_dict(gstate)
        bos = dd.int(1, Vt - 1)
        with torch.no_grad():
            greedy = gm.greedy_decode(src, 6, bos, -1)
            if len(set(greedy[0].tolist())) < 2 or not _stable(
                    gm, gstate, lambda mm: mm.greedy_decode(src, 6, bos, -1), dd):
                continue
        _require(S >= 512 and T >= 512 and bool((src == 0).any()) and bool((tgt == 0).any()),
                 "padded source and target of more than 512 positions")
        return SimpleNamespace(args=args, state=state, src=src, tgt=tgt, logits=logits, gstate=gstate, bos=bos,
                               greedy=greedy, S=S, T=T)
    raise RuntimeError("internal error: no long greedy decoding case found")


@check(points=2, timeout=30, description="sequences of 512+ positions: Transformer.forward (padded source and "
                                         "target: encoder and decoder layers with padding masks), greedy decoding of "
                                         "a long source",
       kind="long_sequence",
       promises=("transformer.any-length", "transformer.embedding", "transformer.masks", "enc-layer.math",
                 "transformer.greedy"),
       targets=("Transformer", "TransformerEncoderLayer", "Transformer.greedy_decode"))
def test_long_sequences(sub, ref, once):
    c = once(lambda d: _long_case(d, ref))
    hint = (" (positions beyond a few hundred: compute the positional encoding for the actual length, with no "
            "table cut at a fixed size such as 128 or 512)")
    m = sub.build("Transformer", c.state, *c.args, dtype=F32)
    got = sub.call(m, c.src, c.tgt).value
    assert_close(got, c.logits, f"Transformer{c.args} on a source of S = {c.S} and a target of T = {c.T} "
                                f"positions, both padded (its encoder and decoder layers run on them): logits" + hint)
    gm = sub.build("Transformer", c.gstate, *c.args, dtype=F64)
    sub.set_mode(gm, False)
    got = expect_tensor(sub.call(gm, c.src, method="greedy_decode", max_len=6, bos_id=c.bos, eos_id=-1).value,
                        f"greedy_decode on a source of S = {c.S} positions")
    if not torch.equal(got, c.greedy):
        fail(f"greedy_decode(src [1,{c.S}], max_len=6) on a long padded source: got {got.tolist()}, expected "
             f"{c.greedy.tolist()}" + hint)


# ----------------------------------------------------------------------------- parallelism of the whole model
@check(points=1, description="Transformer.forward: no Python loop over positions or batch items (embedding, "
                             "positional encoding, masks and layers)", kind="parallelism",
       promises=("parallel.no-loop", "transformer.embedding"), targets=("Transformer",))
def test_transformer_parallel(sub, ref, once):
    c = once(lambda d: _parallel_case(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F32)

    def count(B, S, T):
        src, tgt, exp = c.calls[B, S, T]
        return counted_ops(sub, m, src, tgt, expected=exp, what=f"Transformer (B={B}, S={S}, T={T})")

    S2, T2, B2 = c.S2, c.T2, c.B2
    base = count(2, 3, 4)
    if count(B2, S2, T2) == base:  # the usual case: one call with everything grown
        return
    for grows, n, desc, loop in (
            ("sequence length", count(2, S2, T2), f"S={S2}, T={T2}",
             "positions (the positional encoding too is one tensor expression)"),
            ("batch size", count(B2, 3, 4), f"B={B2}", "batch items")):
        if n != base:
            fail(f"Transformer: the number of tensor operations grows with the {grows} ({base} for B=2, S=3, T=4; "
                 f"{n} for {desc}): do not loop over {loop}")


def _parallel_case(d, ref):
    """The model, and per (B, S, T) its padded inputs and the reference's logits: once per run."""
    Vs, Vt = d.distinct(2, 6, 9)
    args = (Vs, Vt, 4, 2, 1, 1, d.int(3, 6))
    r = ref.Transformer(*args).double()
    state = d.perturb_state(r, 0.5)
    r.load_state_dict(state)
    S2, T2, B2 = d.int(9, 13), d.int(9, 13), d.int(5, 7)
    calls = {}
    for B, S, T in ((2, 3, 4), (B2, S2, T2), (2, S2, T2), (B2, 3, 4)):
        src = _padded(d, B, S, Vs, [S] + [S - 1] * (B - 1))
        tgt = _padded(d, B, T, Vt, [T] * B)
        with torch.no_grad():
            calls[B, S, T] = (src, tgt, r(src, tgt))
    return SimpleNamespace(args=args, state={k: v.float() for k, v in state.items()}, S2=S2, T2=T2, B2=B2,
                           calls=calls)


# ----------------------------------------------------------------------------- float masks in the layers
def _float_mask(d, *shape):
    keep = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    keep = keep.scatter(-1, d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1), True)
    keep.view(-1, shape[-1])[d.int(0, keep.numel() // shape[-1] - 1)] = False  # one row fully masked
    return d.randn(*shape).masked_fill(~keep, float("-inf"))


def _layer_mask_cases(d, ref):
    E = d.int(3, 5) * 2
    B, S, T = d.distinct(3, 2, 6)
    ff = d.int(3, 7)
    out = []
    for nh in (1, E):
        enc, enc_state = _module(ref, d, "TransformerEncoderLayer", E, nh, ff)
        dec, dec_state = _module(ref, d, "TransformerDecoderLayer", E, nh, ff)
        shapes = ((("[S,S]", (S, S)), ("[B,heads,S,S]", (B, nh, S, S))) if nh == 1 else
                  (("[B,S,S]", (B, S, S)),))
        for what, mshape in shapes:
            x, mask = d.randn(B, S, E), _float_mask(d, *mshape)
            with torch.no_grad():
                exp = enc(x, mask)
            out.append(SimpleNamespace(name="TransformerEncoderLayer", args=(E, nh, ff), state=enc_state,
                                       inputs=(x,), kwargs=dict(src_mask=mask), exp=exp,
                                       what=f"TransformerEncoderLayer({E}, {nh}, {ff}) with a float src_mask {what} "
                                            "(a row of -inf included)"))
        y, mem = d.randn(B, T, E), d.randn(B, S, E)
        tmask, mmask = _float_mask(d, B, nh, T, T), _float_mask(d, B, 1, S)
        with torch.no_grad():
            exp = dec(y, mem, tmask, mmask)
        out.append(SimpleNamespace(name="TransformerDecoderLayer", args=(E, nh, ff), state=dec_state, inputs=(y, mem),
                                   kwargs=dict(tgt_mask=tmask, memory_mask=mmask), exp=exp,
                                   what=f"TransformerDecoderLayer({E}, {nh}, {ff}) with float masks tgt_mask "
                                        "[B,heads,T,T] and memory_mask [B,1,S] (-inf rows included)"))
    _require({c.args[1] for c in out} == {1, E}, "one head and head size 1")
    return out


@check(points=1, description="encoder and decoder layers with float masks of every shape (-inf rows included), "
                             "with one head and with head size 1", kind="masks",
       promises=("layers.mask-shapes", "mask.float-additive", "mask.fully-masked", "mha.num-heads"),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer"))
def test_layer_float_masks(sub, ref, once):
    handles = {}
    for c in once(lambda d: _layer_mask_cases(d, ref)):
        key = (c.name, c.args)
        if key not in handles:
            handles[key] = sub.build(c.name, c.state, *c.args, dtype=F64)
        got = sub.call(handles[key], *c.inputs, **c.kwargs).value
        if isinstance(got, torch.Tensor) and torch.isnan(got).any():
            fail(f"{c.what}: the output contains NaN: a query row whose mask is -inf everywhere gets weights 0 "
                 "and a context of 0 (so the attention's output there is out_proj.bias), never NaN")
        assert_close(got, c.exp, c.what)


# ----------------------------------------------------------------------------- greedy decoding ignores padding
def _greedy_variant(ref, m, src, max_len, bos, enc_pad=True, mem_pad=True):
    """Greedy decoding (no EOS) with the source padding masked or not, in the encoder and the cross-attention."""
    keep = (src != 0).unsqueeze(1)
    x = m.embed(m.src_embed, src)
    for layer in m.encoder_layers:
        x = layer(x, keep if enc_pad else None)
    ys = src.new_full((src.size(0), 1), bos)
    for _ in range(max_len):
        tm = ref.causal_mask(ys.size(1)) & (ys != 0).unsqueeze(1)
        y = m.embed(m.tgt_embed, ys)
        for layer in m.decoder_layers:
            y = layer(y, x, tm, keep if mem_pad else None)
        ys = torch.cat([ys, m.generator(y)[:, -1].argmax(-1, keepdim=True)], 1)
    return ys[:, 1:]


def _greedy_padding_case(d, ref):
    for attempt in range(40):
        dd = d.child(attempt)
        Vs, Vt = dd.distinct(2, 7, 12)
        args = (Vs, Vt, 4, 2, 1, dd.int(1, 2), dd.int(4, 8))
        m = ref.Transformer(*args).to(F64).eval()
        state = cases.decoding_state(dd, m)
        m.load_state_dict(state)
        B, S = 3, dd.int(3, 6)
        src = _padded(dd, B, S, Vs, [S] + [dd.int(1, S - 1) for _ in range(B - 1)])
        padded = torch.cat([src, src.new_zeros(B, dd.int(2, 5))], 1)
        bos = dd.int(1, Vt - 1)
        with torch.no_grad():
            exp = m.greedy_decode(src, 7, bos, -1)
            if len({tuple(r) for r in exp.tolist()}) < 2 or not _stable(
                    m, state, lambda mm: mm.greedy_decode(src, 7, bos, -1), dd):
                continue
            # the case must expose both mistakes: padding read by the encoder, or by the cross-attention
            if any(torch.equal(_greedy_variant(ref, m, padded, 7, bos, **kw), exp)
                   for kw in (dict(enc_pad=False), dict(mem_pad=False))):
                continue
        _require(bool((src == 0).any()), "a padded source row")
        return SimpleNamespace(args=args, state=state, src=src, padded=padded, bos=bos, exp=exp)
    raise RuntimeError("internal error: no greedy decoding case found")


@check(points=1, description="greedy_decode ignores source padding: more padding columns change no token",
       kind="masks", promises=("transformer.masks", "pad.zero", "transformer.greedy"),
       targets=("Transformer.greedy_decode",))
def test_greedy_ignores_source_padding(sub, ref, once):
    c = once(lambda d: _greedy_padding_case(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    sub.set_mode(m, False)
    for what, src in (("src", c.src), (f"src with {c.padded.size(1) - c.src.size(1)} more padding columns", c.padded)):
        got = expect_tensor(sub.call(m, src, method="greedy_decode", max_len=7, bos_id=c.bos, eos_id=-1).value,
                            f"greedy_decode({what})")
        if not torch.equal(got, c.exp):
            fail(f"greedy_decode({what}, max_len=7): got {got.tolist()}, expected {c.exp.tolist()}: source padding "
                 "(token 0) must change nothing (mask it in the encoder's self-attention and in the cross-attention)")


# ----------------------------------------------------------------------------- length one, float32 decoding
def _one_case(d, ref):
    Vs, Vt = d.distinct(2, 6, 10)
    nh = 2
    E = nh * d.int(1, 3)
    ff = d.int(3, 6)
    args = (Vs, Vt, E, nh, 1, 2, ff)
    m, state = _module(ref, d, "Transformer", *args)
    state["generator.bias"][0] = -50.0
    m.load_state_dict(state)
    src, tgt = d.randint(1, Vs, (1, 1)), d.randint(1, Vt, (1, 1))
    bos = d.int(1, Vt - 1)
    with torch.no_grad():
        return SimpleNamespace(args=args, state=state, src=src, tgt=tgt, bos=bos, logits=m(src, tgt),
                               greedy=m.greedy_decode(src, 3, bos, -1))


@check(points=1, description="a batch of one and sequences of length one: Transformer.forward and greedy_decode",
       kind="shapes",
       promises=("batch.any", "length.one", "transformer.forward", "transformer.greedy"),
       targets=("Transformer", "Transformer.greedy_decode"))
def test_length_one(sub, ref, once):
    c = once(lambda d: _one_case(d, ref))
    what = f"Transformer{c.args} with one source token and one target token (B = 1)"
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    sub.set_mode(m, False)
    got = sub.call(m, c.src, c.tgt).value
    if isinstance(got, torch.Tensor) and got.numel() == c.logits.numel() and got.shape != c.logits.shape:
        fail(f"{what}: logits should have shape {tuple(c.logits.shape)}, got {tuple(got.shape)}: a dimension of "
             "size 1 was dropped (squeeze() without a dim?)")
    assert_close(got, c.logits, f"{what}: logits")
    for handle, n, exp, tag in ((m, 3, c.greedy, "float64"),):
        got = sub.call(handle, c.src, method="greedy_decode", max_len=n, bos_id=c.bos, eos_id=-1).value
        label = f"greedy_decode(src [1,1], max_len={n}) of a {tag} model"
        expect_tensor(got, label, tuple(exp.shape), torch.int64)
        if not torch.equal(got, exp):
            fail(f"{label}: got {got.tolist()}, expected {exp.tolist()}")


# ----------------------------------------------------------------------------- non-contiguous inputs
def _strided_case(d, ref):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.int(3, 7)
    B, S, T = d.distinct(3, 2, 6)
    enc, enc_state = _module(ref, d, "TransformerEncoderLayer", E, nh, ff)
    dec, dec_state = _module(ref, d, "TransformerDecoderLayer", E, nh, ff)
    x, y, mem = d.randn(B, S, E), d.randn(B, T, E), d.randn(B, S, E)
    pad = (torch.arange(S)[None, :] < torch.tensor([S] + [d.int(1, S) for _ in range(B - 1)])[:, None]).unsqueeze(1)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    with torch.no_grad():
        return SimpleNamespace(args=(E, nh, ff), enc_state=enc_state, dec_state=dec_state, x=x, y=y, mem=mem, pad=pad,
                               causal=causal, enc=enc(x, pad), dec=dec(y, mem, causal, pad))


@check(points=1, description="the encoder and decoder layers accept non-contiguous views (transposed, sliced) as "
                             "inputs and masks", kind="values",
       promises=("input.non-contiguous", "enc-layer.math", "dec-layer.math"),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer"))
def test_noncontiguous_inputs(sub, ref, once):
    c = once(lambda d: _strided_case(d, ref))
    enc = sub.build("TransformerEncoderLayer", c.enc_state, *c.args, dtype=F64)
    got = sub.call(enc, Strided(c.x, "transposed"), Strided(c.pad, "sliced")).value
    with view_hint():
        assert_close(got, c.enc, f"TransformerEncoderLayer{c.args} with a transposed src")
    dec = sub.build("TransformerDecoderLayer", c.dec_state, *c.args, dtype=F64)
    got = sub.call(dec, Strided(c.y, "sliced"), Strided(c.mem, "transposed"), tgt_mask=Strided(c.causal, "transposed"),
                   memory_mask=c.pad).value
    with view_hint():
        assert_close(got, c.dec, f"TransformerDecoderLayer{c.args} with sliced/transposed tgt, memory "
                                                    "and tgt_mask")
