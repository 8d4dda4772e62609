"""Public checks of a5_transformer: the layers against torch.nn.TransformerEncoderLayer and
TransformerDecoderLayer (dropout=0, batch_first=True, post-norm, ReLU).

The parameter names are torch's, so torch's state_dict loads into the submission.
torch's boolean masks mean True = NOT allowed (the opposite of the course), and it takes
key padding as a separate [B,S] mask, so the masks are converted before calling torch.
torch runs in training mode (with dropout 0 that is the same math) to stay off its
inference fast path, which returns zeros at padded positions.
"""

import torch

from grader.checks import assert_close, check

F64 = torch.float64


def _padding(d, B, S):
    lengths = torch.tensor([S] + [d.int(1, S) for _ in range(B - 1)])
    return (torch.arange(S)[None, :] < lengths[:, None]).unsqueeze(1)  # [B,1,S], True = real token


def _encoder_cases(d):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.int(3, 8)
    B, S = d.distinct(2, 2, 6)
    layer = torch.nn.TransformerEncoderLayer(E, nh, ff, dropout=0.0, batch_first=True, dtype=F64)
    state = d.perturb_state(layer, 0.5)
    layer.load_state_dict(state)
    pad = _padding(d, B, S)
    causal = torch.ones(S, S, dtype=torch.bool).tril()
    x1, x2 = d.randn(B, S, E), d.randn(B, S, E)
    with torch.no_grad():
        cases = [("no mask", x1, {}, layer(x1)),
                 ("a key padding mask [B,1,S]", x2, dict(src_mask=pad), layer(x2, src_key_padding_mask=~pad[:, 0])),
                 ("a causal mask [S,S]", x1, dict(src_mask=causal), layer(x1, src_mask=~causal))]
    return dict(args=(E, nh, ff), state=state, cases=cases)


@check(points=2, description="TransformerEncoderLayer equals torch's (dropout=0, batch_first=True)",
       kind="values", promises=("enc-layer.math", "layernorm.eps"),
       targets=("TransformerEncoderLayer",))
def test_public_encoder_layer_matches_torch(sub, once):
    c = once(_encoder_cases)
    m = sub.build("TransformerEncoderLayer", c["state"], *c["args"], dtype=F64)
    for what, x, kw, exp in c["cases"]:
        assert_close(sub.call(m, x, **kw).value, exp, f"TransformerEncoderLayer{c['args']} with {what}")


def _decoder_cases(d):
    nh, hd = d.distinct(2, 2, 3)
    E = nh * hd
    ff = d.int(3, 8)
    B, T, S = d.distinct(3, 2, 6)
    layer = torch.nn.TransformerDecoderLayer(E, nh, ff, dropout=0.0, batch_first=True, dtype=F64)
    state = d.perturb_state(layer, 0.5)
    layer.load_state_dict(state)
    pad = _padding(d, B, S)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    y, mem = d.randn(B, T, E), d.randn(B, S, E)
    with torch.no_grad():
        cases = [("no masks", dict(), layer(y, mem)),
                 ("a causal tgt_mask [T,T] and a source padding memory_mask [B,1,S]",
                  dict(tgt_mask=causal, memory_mask=pad),
                  layer(y, mem, tgt_mask=~causal, memory_key_padding_mask=~pad[:, 0]))]
    return dict(args=(E, nh, ff), state=state, y=y, mem=mem, cases=cases)


@check(points=2, description="TransformerDecoderLayer equals torch's (dropout=0, batch_first=True)",
       kind="values", promises=("dec-layer.math", "layernorm.eps"),
       targets=("TransformerDecoderLayer",))
def test_public_decoder_layer_matches_torch(sub, once):
    c = once(_decoder_cases)
    m = sub.build("TransformerDecoderLayer", c["state"], *c["args"], dtype=F64)
    for what, kw, exp in c["cases"]:
        assert_close(sub.call(m, c["y"], c["mem"], **kw).value, exp, f"TransformerDecoderLayer{c['args']} with {what}")
