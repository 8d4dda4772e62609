"""Helpers shared by the public a4_seq2seq checks (not a check file itself).

Check files load it with `grader.checks.load_cases(__file__, "_common")` (pytest imports them with
--import-mode=importlib, so they cannot import a sibling). Nothing here uses the reference solution: the
expected values come from torch's own modules, from data/*.safetensors, or from
properties every correct implementation has.
"""

from __future__ import annotations

import torch
from torch import nn

from grader.checks import expect_tensor, expect_tuple, fail, load_tensors

F64 = torch.float64
_RNNS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


def load_data(name: str) -> dict[str, torch.Tensor]:
    return load_tensors(__file__, name)


def state_from(data: dict, prefix: str = "state.") -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}


def kwargs_from(data: dict, cell: str) -> dict:
    return dict(vocab_size=int(data["vocab_size"]), embed_size=int(data["embed_size"]),
                hidden_size=int(data["hidden_size"]), num_layers=int(data["num_layers"]), cell=cell)


# ----------------------------------------------------------------------------- the contract's layout, in torch
class _Attention(nn.Module):
    def __init__(self, H):
        super().__init__()
        self.W_q = nn.Linear(H, H, bias=False)
        self.W_k = nn.Linear(H, H, bias=False)
        self.w_v = nn.Linear(H, 1, bias=False)


class Layout(nn.Module):
    """Encoder / Decoder / AttentionDecoder parameters as the contract lays them out (torch modules)."""

    def __init__(self, kind, vocab_size, embed_size, hidden_size, num_layers=1, cell="gru"):
        super().__init__()
        V, E, H, L = vocab_size, embed_size, hidden_size, num_layers
        self.embedding = nn.Embedding(V, E, padding_idx=0)
        if kind == "AttentionDecoder":
            self.attention = _Attention(H)
        self.rnn = _RNNS[cell](E + (H if kind == "AttentionDecoder" else 0), H, num_layers=L, batch_first=True)
        if kind != "Encoder":
            self.out = nn.Linear(H, V)


class Seq2SeqLayout(nn.Module):
    def __init__(self, decoder, **kw):
        super().__init__()
        self.encoder = Layout("Encoder", **kw)
        self.decoder = Layout(decoder, **kw)


def random_state(draw, module: nn.Module, scale=0.6):
    module = module.to(F64)
    state = draw.perturb_state(module, scale)
    module.load_state_dict(state)
    return module, state


def build_seq2seq(sub, decoder: str, kw: dict, state: dict):
    enc = sub.new("Encoder", **kw)
    dec = sub.new(decoder, **kw)
    return sub.build("Seq2Seq", state, enc, dec, dtype=F64), dec


# ----------------------------------------------------------------------------- inputs
def ragged(draw, B, S, V):
    """Token ids [B,S] (0 = pad) and lengths [B] in no particular order; one row full, one padded."""
    lengths = [S] + [draw.int(1, S - 1) for _ in range(B - 1)]
    draw.rng.shuffle(lengths)
    lengths = torch.tensor(lengths, dtype=torch.int64)
    src = draw.randint(1, V, (B, S)).masked_fill(~mask_of(lengths, S), 0)
    return src, lengths


def mask_of(lengths, S):
    return torch.arange(S).unsqueeze(0) < lengths.unsqueeze(1)


def state_parts(value, cell: str, what: str):
    if cell == "lstm":
        return expect_tuple(value, f"{what}: an LSTM state is the pair (h, c)", 2), ("h", "c")
    if isinstance(value, (tuple, list)):
        fail(f"{what}: a {cell.upper()} state is one tensor h [num_layers, B, H], got a tuple/list")
    return (value,), ("h",)


# ----------------------------------------------------------------------------- decoding results
BEAM_HINT = (" (beam search stops once every row's best hypothesis has finished: return that best hypothesis, the "
             "one with the highest sum of log-probabilities, without length normalisation, not another beam)")


def check_tokens(got, what: str, B: int, max_len: int, bos: int, eos: int, beam: bool = False) -> torch.Tensor:
    """The decoding format: int64 [B, <=max_len], no BOS, pad after EOS, as wide as the longest row."""
    got = expect_tensor(got, what)
    if got.dtype != torch.int64:
        fail(f"{what}: expected token ids of dtype int64 (long), got {str(got.dtype).replace('torch.', '')}")
    if got.dim() != 2 or got.size(0) != B or got.size(1) > max_len:
        fail(f"{what}: expected shape [B={B}, <=max_len={max_len}], got {tuple(got.shape)}")
    rows = got.tolist()
    if rows and rows[0] and all(r[0] == bos for r in rows):
        fail(f"{what}: every row starts with BOS ({bos}): the output must exclude BOS")
    ends = []
    for b, r in enumerate(rows):
        k = r.index(eos) if eos in r else None
        if k is not None and any(x != 0 for x in r[k + 1:]):
            fail(f"{what}: row {b} has tokens other than pad (0) after its EOS ({eos}): got {r}; once a row "
                 "has produced EOS, fill the rest of it with 0")
        ends.append(None if k is None else k + 1)
    W = got.size(1)
    if None in ends and W < max_len:
        fail(f"{what}: row {ends.index(None)} never produced EOS, yet decoding stopped after {W} < "
             f"max_len={max_len} steps" + (BEAM_HINT if beam else ""))
    if None not in ends and ends and W > max(ends):
        fail(f"{what}: every row has finished by step {max(ends)} but the output is {W} wide: stop decoding "
             "when every row has produced EOS")
    return got


def compare_tokens(got, expected, what, max_len, bos, eos, beam=False):
    got = check_tokens(got, what, expected.size(0), max_len, bos, eos, beam)
    if got.shape == expected.shape and torch.equal(got, expected):
        return
    rows_g, rows_e = got.tolist(), expected.tolist()
    strip = lambda r: [x for i, x in enumerate(r) if any(y != 0 for y in r[i:])]  # noqa: E731
    bad = [b for b in range(len(rows_e)) if strip(rows_g[b]) != strip(rows_e[b])]
    if not bad:
        fail(f"{what}: expected {expected.size(1)} columns, got {got.size(1)}")
    fail(f"{what}: {len(bad)} of {len(rows_e)} rows differ from the expected tokens; row {bad[0]}: got "
         f"{rows_g[bad[0]]}, expected {rows_e[bad[0]]}" + (BEAM_HINT if beam else ""))
