"""Hidden checks of a5_transformer: values of the layers and of the Transformer against the reference.

Float64, random non-symmetric weights (LayerNorm weights and biases included, so swapped
norms show), several heads with B != heads, masks of every shape the contract allows, and
ragged (padded) source and target batches. When values differ, the message names the
likely bug by comparing with the outputs of the usual mistakes, computed with the
reference's own submodules.
"""

import math
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from grader.checks import assert_close, check, expect_tensor, fail

F64, F32 = torch.float64, torch.float32


def _close(a, b):
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.to(b.dtype), b, rtol=1e-5,
                                                                                  atol=1e-7)


def _diag(alts):
    return [(lambda a, e, t=t: _close(a, t), msg) for t, msg in alts]


def _module(ref, d, name, *args, scale=0.5):
    m = getattr(ref, name)(*args).to(F64)
    state = d.perturb_state(m, scale)
    m.load_state_dict(state)
    m.eval()
    return m, state


def _padding(d, B, S):
    lengths = [d.int(1, S) for _ in range(B)]
    lengths[0] = S
    if B > 1 and S > 1:
        lengths[1] = d.int(1, S - 1)
    return (torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]).unsqueeze(1), lengths


def _random_mask(d, *shape):
    m = d.uniform(*shape, lo=0.0, hi=1.0) < 0.6
    idx = d.randint(0, shape[-1], tuple(shape[:-1])).unsqueeze(-1)
    return m.scatter(-1, idx, True)


def _ffn(m, x, relu=True):
    h = m.linear1(x)
    return m.linear2(F.relu(h) if relu else h)


# ----------------------------------------------------------------------------- encoder layer
def _enc_manual(m, x, mask, prenorm=False, ffn_residual=True, relu=True, attn_residual=True):
    sa = lambda t: m.self_attn(t, t, t, attn_mask=mask)[0]  # noqa: E731
    if prenorm:
        x = x + sa(m.norm1(x))
        return x + _ffn(m, m.norm2(x), relu)
    x = m.norm1((x if attn_residual else 0) + sa(x))
    return m.norm2((x if ffn_residual else 0) + _ffn(m, x, relu))


ENC_MISTAKES = [
    (dict(prenorm=True), "the layer is pre-norm (x + f(norm(x))); the contract is post-norm, as torch's default: "
                         "x = norm1(x + self_attn(x)); x = norm2(x + ffn(x))"),
    (dict(ffn_residual=False), "the feed-forward block has no residual connection: "
                               "norm2(x + linear2(relu(linear1(x))))"),
    (dict(attn_residual=False), "the self-attention block has no residual connection: norm1(x + self_attn(x, x, x))"),
    (dict(relu=False), "the feed-forward block has no ReLU: linear2(relu(linear1(x)))"),
    (dict(mask=None), "src_mask is not passed to the self-attention"),
]


def _enc_cases(d, ref):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.choice([n for n in range(3, 10) if n != E])
    B, S = d.distinct(2, 2, 6)
    if B == nh:
        B += 1
    m, state = _module(ref, d, "TransformerEncoderLayer", E, nh, ff)
    pad, _ = _padding(d, B, S)
    masks = [("no mask", None), ("a key padding mask [B,1,S]", pad), ("a mask [S,S]", _random_mask(d, S, S)),
             ("a mask [B,heads,S,S]", _random_mask(d, B, nh, S, S))]
    cases = []
    with torch.no_grad():
        for what, mask in masks:
            x = d.randn(B, S, E)
            exp = m(x, mask)
            alts = []
            for kw, msg in ENC_MISTAKES:
                if "mask" in kw and mask is None:
                    continue
                kw = dict(kw)
                mk = kw.pop("mask", mask)
                alts.append((_enc_manual(m, x, mk, **kw), msg))
            cases.append(SimpleNamespace(x=x, mask=mask, exp=exp, alts=alts, what=what))
    return SimpleNamespace(args=(E, nh, ff), state=state, cases=cases)


@check(points=2, description="TransformerEncoderLayer gives the reference's output (post-norm, ReLU), with masks",
       kind="masks", promises=("enc-layer.math", "layers.mask-shapes", "layernorm.eps"),
       targets=("TransformerEncoderLayer",))
def test_encoder_layer_values(sub, ref, once):
    c = once(lambda d: _enc_cases(d, ref))
    m = sub.build("TransformerEncoderLayer", c.state, *c.args, dtype=F64)
    for case in c.cases:
        got = sub.call(m, case.x, case.mask).value if case.mask is not None else sub.call(m, case.x).value
        assert_close(got, case.exp, f"TransformerEncoderLayer{c.args} with {case.what}", diagnoses=_diag(case.alts))


# ----------------------------------------------------------------------------- decoder layer
def _dec_manual(m, x, mem, tgt_mask, mem_mask, prenorm=False, swap23=False, relu=True, ffn_residual=True):
    sa = lambda t: m.self_attn(t, t, t, attn_mask=tgt_mask)[0]  # noqa: E731
    ca = lambda t: m.multihead_attn(t, mem, mem, attn_mask=mem_mask)[0]  # noqa: E731
    n2, n3 = (m.norm3, m.norm2) if swap23 else (m.norm2, m.norm3)
    if prenorm:
        x = x + sa(m.norm1(x))
        x = x + ca(m.norm2(x))
        return x + _ffn(m, m.norm3(x), relu)
    x = m.norm1(x + sa(x))
    x = n2(x + ca(x))
    return n3((x if ffn_residual else 0) + _ffn(m, x, relu))


def _dec_cases(d, ref):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.choice([n for n in range(3, 10) if n != E])
    B, T, S = d.distinct(3, 2, 6)
    if B == nh:
        B = max(B, T, S) + 1
    m, state = _module(ref, d, "TransformerDecoderLayer", E, nh, ff)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    pad, _ = _padding(d, B, S)
    masks = [
        ("a causal tgt_mask [T,T] and a source padding memory_mask [B,1,S]", causal, pad),
        ("tgt_mask [B,T,T] and memory_mask [B,heads,T,S]", causal & _random_mask(d, B, T, T),
         _random_mask(d, B, nh, T, S)),
        ("no masks", None, None),
    ]
    spec = [
        (dict(prenorm=True), "the layer is pre-norm (x + f(norm(x))); the contract is post-norm: x = norm1(x + "
                             "self_attn(x)); x = norm2(x + cross_attn(x, memory)); x = norm3(x + ffn(x))"),
        (dict(swap23=True), "norm2 and norm3 are swapped: norm2 follows the cross-attention, norm3 the feed-forward"),
        (dict(relu=False), "the feed-forward block has no ReLU"),
        (dict(ffn_residual=False), "the feed-forward block has no residual connection"),
        (dict(mem_mask=None), "memory_mask is not passed to the cross-attention (multihead_attn)"),
        (dict(tgt_mask=None), "tgt_mask is not passed to the self-attention"),
    ]
    cases = []
    with torch.no_grad():
        for what, tm, mm in masks:
            x, mem = d.randn(B, T, E), d.randn(B, S, E)
            exp = m(x, mem, tm, mm)
            alts = []
            for kw, msg in spec:
                if ("tgt_mask" in kw and tm is None) or ("mem_mask" in kw and mm is None):
                    continue
                kw = dict(kw)
                t_ = kw.pop("tgt_mask", tm)
                m_ = kw.pop("mem_mask", mm)
                alts.append((_dec_manual(m, x, mem, t_, m_, **kw), msg))
            cases.append(SimpleNamespace(x=x, mem=mem, tm=tm, mm=mm, exp=exp, alts=alts, what=what))
    return SimpleNamespace(args=(E, nh, ff), state=state, cases=cases)


@check(points=2, description="TransformerDecoderLayer gives the reference's output (post-norm), with masks",
       kind="masks", promises=("dec-layer.math", "layers.mask-shapes"),
       targets=("TransformerDecoderLayer",))
def test_decoder_layer_values(sub, ref, once):
    c = once(lambda d: _dec_cases(d, ref))
    m = sub.build("TransformerDecoderLayer", c.state, *c.args, dtype=F64)
    for case in c.cases:
        kw = {k: v for k, v in (("tgt_mask", case.tm), ("memory_mask", case.mm)) if v is not None}
        got = sub.call(m, case.x, case.mem, **kw).value
        assert_close(got, case.exp, f"TransformerDecoderLayer{c.args} with {case.what}", diagnoses=_diag(case.alts))


# ----------------------------------------------------------------------------- the Transformer
def transformer_manual(ref, m, src, tgt, scale=True, pe=True, causal=True, tgt_pad=True, mem_pad=True,
                       enc_pad=True):
    """The Transformer's forward with the usual mistakes switchable (diagnoses only)."""
    E = m.d_model

    def emb(table, tokens):
        x = table(tokens) * (math.sqrt(E) if scale else 1.0)
        if pe:
            x = x + ref.sinusoidal_positional_encoding(tokens.size(1), E, x.dtype)
        return x

    keep = (src != 0).unsqueeze(1)
    x = emb(m.src_embed, src)
    for layer in m.encoder_layers:
        x = layer(x, keep if enc_pad else None)
    T = tgt.size(1)
    tm = ref.causal_mask(T) if causal else None
    if tgt_pad:
        tm = (tgt != 0).unsqueeze(1) if tm is None else tm & (tgt != 0).unsqueeze(1)
    y = emb(m.tgt_embed, tgt)
    for layer in m.decoder_layers:
        y = layer(y, x, tm, keep if mem_pad else None)
    return m.generator(y)


TRANSFORMER_MISTAKES = [
    (dict(scale=False), "the embeddings are not multiplied by sqrt(d_model) before the positional encoding is added"),
    (dict(pe=False), "no positional encoding is added to the embeddings"),
    (dict(causal=False), "the decoder's self-attention is not causal: use causal_mask(T) & (tgt_in != 0)"),
    (dict(tgt_pad=False), "the decoder's self-attention attends target padding: its mask must also be "
                          "(tgt_in != 0).unsqueeze(1)"),
    (dict(mem_pad=False), "the decoder's cross-attention attends source padding: pass memory_mask = "
                          "(src != 0).unsqueeze(1)"),
    (dict(enc_pad=False), "the encoder's self-attention attends source padding: pass src_mask = "
                          "(src != 0).unsqueeze(1)"),
    (dict(mem_pad=False, enc_pad=False), "source padding is not masked, neither in the encoder nor in the "
                                         "cross-attention"),
]


def ragged_tokens(d, B, L, V, first=None):
    """[B, L] tokens in [1, V) with right padding (id 0); row 0 full, row 1 padded."""
    tokens = d.randint(1, V, (B, L))
    if first is not None:
        tokens[:, 0] = first
    lengths = [L] + [d.int(2 if first is not None else 1, L - 1) for _ in range(B - 1)]
    return tokens.masked_fill(torch.arange(L)[None, :] >= torch.tensor(lengths)[:, None], 0)


def _transformer_case(d, ref):
    nh, hd = 2, d.int(2, 3)
    E = nh * hd
    Vs, Vt = d.distinct(2, 6, 11)
    ff = d.int(3, 8)
    B, S, T = d.distinct(3, 3, 7)
    args = (Vs, Vt, E, nh, 2, 2, ff)
    m, state = _module(ref, d, "Transformer", *args)
    src = ragged_tokens(d, B, S, Vs)
    tgt = ragged_tokens(d, B, T, Vt, first=1)
    with torch.no_grad():
        exp = m(src, tgt)
        alts = [(transformer_manual(ref, m, src, tgt, **kw), msg) for kw, msg in TRANSFORMER_MISTAKES]
    return SimpleNamespace(args=args, state=state, src=src, tgt=tgt, exp=exp, alts=alts)


@check(points=3, description="Transformer.forward gives the reference's logits on ragged (padded) batches",
       kind="values", promises=("transformer.forward", "transformer.embedding", "transformer.masks",
                                "transformer.modules"),
       targets=("Transformer",))
def test_transformer_values(sub, ref, once):
    c = once(lambda d: _transformer_case(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    got = sub.call(m, c.src, c.tgt).value
    assert_close(got, c.exp, f"Transformer{c.args} logits for src {tuple(c.src.shape)} and tgt_in "
                             f"{tuple(c.tgt.shape)} (both padded)", diagnoses=_diag(c.alts),
                 dims=("batch item", "target position", "vocabulary entry"), where=target_position(c.src, c.tgt))


def target_position(src, tgt):
    """What a position of the logits means: a pad position of tgt_in, or a row whose source is padded."""
    def where(idx):
        b, t = idx[0], idx[1]
        if int(tgt[b, t]) == 0:
            return f"a pad position of tgt_in (tgt_in[{b}, {t}] == 0)"
        if bool((src[b] == 0).any()):
            return f"batch item {b} has source padding (src == 0 at positions {int((src[b] != 0).sum())} and after)"
        return ""
    return where


# ----------------------------------------------------------------------------- shapes, dtypes, parameters
@check(points=1, description="output shapes and dtypes: float32 with batch 1, float64 with batch > 1",
       kind="shapes", promises=("batch.any", "dtype.float32-float64"),
       targets=("TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"))
def test_shapes_and_dtypes(sub, draw):
    nh = 2
    E = nh * draw.int(1, 2)
    ff = draw.int(3, 6)
    Vs, Vt = draw.distinct(2, 5, 9)
    S, T = draw.distinct(2, 2, 5)
    for dtype, B in ((F32, 1), (F64, draw.int(2, 4))):
        name = str(dtype).replace("torch.", "")
        enc = sub.new("TransformerEncoderLayer", E, nh, ff, dtype=dtype)
        dec = sub.new("TransformerDecoderLayer", E, nh, ff, dtype=dtype)
        model = sub.new("Transformer", Vs, Vt, E, nh, 1, 1, ff, dtype=dtype)
        x, mem = draw.randn(B, T, E, dtype=dtype), draw.randn(B, S, E, dtype=dtype)
        expect_tensor(sub.call(enc, mem).value, f"TransformerEncoderLayer output (B={B}, {name})", (B, S, E), dtype)
        expect_tensor(sub.call(dec, x, mem).value, f"TransformerDecoderLayer output (B={B}, {name})",
                      (B, T, E), dtype)
        src, tgt = draw.randint(1, Vs, (B, S)), draw.randint(1, Vt, (B, T))
        expect_tensor(sub.call(model, src, tgt).value, f"Transformer logits (B={B}, {name})", (B, T, Vt), dtype)


@check(points=1, description="parameter names and shapes follow the contract (torch's layer layout)",
       kind="shapes", promises=("transformer.modules", "params.names"),
       targets=("Transformer",))
def test_parameters(sub, ref, draw):
    nh = 2
    E = nh * draw.int(2, 3)
    args = (draw.int(5, 9), draw.int(5, 9), E, nh, 2, 1, draw.int(3, 7))
    want = {n: tuple(p.shape) for n, p in ref.Transformer(*args).named_parameters()}
    got = {n: tuple(s) for n, s, _ in sub.parameters(sub.new("Transformer", *args))}
    if got != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = [f"{n} has shape {got[n]}, expected {want[n]}" for n in sorted(set(want) & set(got))
                 if want[n] != got[n]]
        parts = ([f"missing {missing[:6]}"] if missing else []) + ([f"unexpected {extra[:6]}"] if extra else [])
        fail(f"Transformer{args}: parameters differ from the contract: " + "; ".join(parts + wrong[:4]))
