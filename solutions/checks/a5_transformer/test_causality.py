"""Hidden checks of a5_transformer: causality, padding and batch independence.

Properties that need no reference output: the logits at step t never depend on target
tokens after t (train and eval mode), padding the source changes nothing, and one batch
item never changes another's logits.
"""

from types import SimpleNamespace

import torch

from grader.checks import check, expect_tensor, fail

F64 = torch.float64


def _module(ref, d, name, *args, scale=0.5):
    m = getattr(ref, name)(*args).to(F64)
    return d.perturb_state(m, scale)


def _causal_case(d, ref):
    nh = 2
    E = nh * d.int(2, 3)
    Vs, Vt = d.distinct(2, 6, 10)
    B, S, T = d.distinct(3, 3, 7)
    args = (Vs, Vt, E, nh, 1, 2, d.int(3, 7))
    state = _module(ref, d, "Transformer", *args)
    src = d.randint(1, Vs, (B, S))
    tgt = d.randint(1, Vt, (B, T))
    t = d.int(0, T - 2)
    tgt2 = tgt.clone()
    tgt2[:, t + 1:] = (tgt[:, t + 1:] + d.randint(1, Vt - 1, (B, T - t - 1)) - 1) % (Vt - 1) + 1  # other tokens
    layer_args = (E, nh, d.int(3, 7))
    layer_state = _module(ref, d, "TransformerDecoderLayer", *layer_args)
    y, mem = d.randn(B, T, E), d.randn(B, S, E)
    y2 = y.clone()
    y2[:, t + 1:] = d.randn(B, T - t - 1, E)
    return SimpleNamespace(args=args, state=state, src=src, tgt=tgt, tgt2=tgt2, t=t, layer_args=layer_args,
                           layer_state=layer_state, y=y, y2=y2, mem=mem,
                           causal=torch.ones(T, T, dtype=torch.bool).tril())


@check(points=2, description="the decoder is causal: logits at step t do not depend on later targets (train and eval)",
       kind="masks", promises=("transformer.masks",),
       targets=("Transformer", "TransformerDecoderLayer"))
def test_decoder_causality(sub, ref, once):
    c = once(lambda d: _causal_case(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    layer = sub.build("TransformerDecoderLayer", c.layer_state, *c.layer_args, dtype=F64)
    t = c.t
    for train in (True, False):
        mode = "train" if train else "eval"
        sub.set_mode(m, train)
        sub.set_mode(layer, train)
        a = expect_tensor(sub.call(m, c.src, c.tgt).value, f"Transformer logits ({mode} mode)")
        b = expect_tensor(sub.call(m, c.src, c.tgt2).value, f"Transformer logits ({mode} mode)")
        if a.shape != b.shape or not torch.allclose(a[:, :t + 1], b[:, :t + 1], rtol=1e-9, atol=1e-10):
            fail(f"Transformer ({mode} mode): changing the target tokens after step {t} changed the logits at steps "
                 f"<= {t}: the decoder's self-attention must use a causal mask (causal_mask(T) & (tgt_in != 0)), "
                 "built in forward in both train and eval mode")
        a = expect_tensor(sub.call(layer, c.y, c.mem, tgt_mask=c.causal).value, "TransformerDecoderLayer output")
        b = expect_tensor(sub.call(layer, c.y2, c.mem, tgt_mask=c.causal).value, "TransformerDecoderLayer output")
        if a.shape != b.shape or not torch.allclose(a[:, :t + 1], b[:, :t + 1], rtol=1e-9, atol=1e-10):
            fail(f"TransformerDecoderLayer ({mode} mode) with a causal tgt_mask: changing tgt after step {t} changed "
                 f"the output at steps <= {t}: pass tgt_mask to the self-attention")


def _padding_case(d, ref):
    nh = 2
    E = nh * d.int(2, 3)
    Vs, Vt = d.distinct(2, 6, 10)
    B, S, T = d.distinct(3, 3, 6)
    args = (Vs, Vt, E, nh, 2, 1, d.int(3, 7))
    state = _module(ref, d, "Transformer", *args)
    lengths = torch.tensor([S] + [d.int(1, S - 1) for _ in range(B - 1)])
    src = d.randint(1, Vs, (B, S)).masked_fill(torch.arange(S)[None, :] >= lengths[:, None], 0)
    extra = d.int(1, 3)
    src_padded = torch.cat((src, torch.zeros(B, extra, dtype=src.dtype)), 1)
    tgt = d.randint(1, Vt, (B, T))
    b = d.int(0, B - 1)
    src2, tgt2 = src.clone(), tgt.clone()
    src2[b] = d.randint(1, Vs, (S,))
    tgt2[b] = d.randint(1, Vt, (T,))
    return SimpleNamespace(args=args, state=state, src=src, src_padded=src_padded, tgt=tgt, src2=src2, tgt2=tgt2, b=b)


@check(points=2, description="source padding changes nothing; one batch item never changes another's logits",
       kind="masks", promises=("transformer.masks", "pad.zero", "layout.batch-first"),
       targets=("Transformer",))
def test_padding_and_batch_independence(sub, ref, once):
    c = once(lambda d: _padding_case(d, ref))
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    a = expect_tensor(sub.call(m, c.src, c.tgt).value, "Transformer logits")
    b = expect_tensor(sub.call(m, c.src_padded, c.tgt).value, "Transformer logits with a padded source", a.shape)
    if not torch.allclose(a, b, rtol=1e-9, atol=1e-10):
        fail("Transformer: appending padding (token 0) to the source changed the logits: the encoder's "
             "self-attention and the decoder's cross-attention must never attend source padding (mask "
             "(src != 0).unsqueeze(1), [B,1,S], passed as src_mask to every encoder layer and as memory_mask to "
             "every decoder layer)")
    b = expect_tensor(sub.call(m, c.src2, c.tgt2).value, "Transformer logits", a.shape)
    keep = [i for i in range(a.size(0)) if i != c.b]
    if not torch.allclose(a[keep], b[keep], rtol=1e-9, atol=1e-10):
        fail(f"Transformer: changing batch item {c.b} changed the logits of other batch items: attention and masks "
             "must stay within a batch item (check the reshapes into heads and the shapes of the masks)")
