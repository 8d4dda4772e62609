"""Hidden checks of a5_transformer: greedy decoding.

Random Transformers tend to repeat one token forever, so the case is searched for at
grading time (with the reference, once per run): weights whose greedy outputs vary, and
an EOS id that rows reach at different steps. Case "early" has every row finish before
max_len (decoding must stop at the longest row); case "max_len" has a row that never
finishes (the result is max_len wide) and a row that finishes early (padding after EOS).
"""

from types import SimpleNamespace

import torch

from grader.checks import check, expect_tensor, fail, load_cases

cases = load_cases(__file__)
F64 = torch.float64


def _first(row, eos):
    hits = (row == eos).nonzero()
    return int(hits[0]) if len(hits) else None


def _search(d, ref):
    found = {}
    for _ in range(300):
        nh = 2
        E = nh * d.int(2, 3)
        Vs, Vt = d.distinct(2, 7, 12)
        args = (Vs, Vt, E, nh, 1, d.int(1, 2), d.int(4, 8))
        m = ref.Transformer(*args).to(F64)
        state = cases.decoding_state(d, m)
        m.load_state_dict(state)
        m.eval()
        B, S = d.int(3, 5), d.int(3, 6)
        lengths = torch.tensor([S] + [d.int(2, S) for _ in range(B - 1)])
        src = d.randint(1, Vs, (B, S)).masked_fill(torch.arange(S)[None, :] >= lengths[:, None], 0)
        max_len = d.int(6, 9)
        bos = d.int(1, Vt - 1)
        with torch.no_grad():
            free = m.greedy_decode(src, max_len, bos, -1)  # never stops: every row's tokens
        for eos in d.distinct(Vt - 1, 1, Vt - 1):
            if eos == bos:
                continue
            firsts = [_first(r, eos) for r in free]
            done = [f for f in firsts if f is not None]
            if "early" not in found and len(done) == B and len(set(done)) > 1 and max(done) < max_len - 1:
                kind = "early"
            elif "max_len" not in found and 0 < len(done) < B and min(done) < max_len - 2:
                kind = "max_len"
            else:
                continue
            with torch.no_grad():
                exp = m.greedy_decode(src, max_len, bos, eos)
            found[kind] = SimpleNamespace(kind=kind, args=args, state=state, src=src, max_len=max_len, bos=bos,
                                          eos=eos, exp=exp, free=free)
            break
        if len(found) == 2:
            return [found["early"], found["max_len"]]
    raise RuntimeError("no greedy decoding case found")  # pragma: no cover - the search succeeds in practice


def _describe(c):
    return (f"greedy_decode(src [{c.src.size(0)},{c.src.size(1)}], max_len={c.max_len}, bos_id={c.bos}, "
            f"eos_id={c.eos})")


def _run(sub, c):
    m = sub.build("Transformer", c.state, *c.args, dtype=F64)
    sub.set_mode(m, False)
    got = sub.call(m, c.src, method="greedy_decode", max_len=c.max_len, bos_id=c.bos, eos_id=c.eos).value
    return expect_tensor(got, _describe(c))


def _diagnose(got, c):
    """What is wrong with `got` compared with the expected output, in words."""
    exp, what = c.exp, _describe(c)
    B, W = exp.shape
    if got.dim() != 2 or got.size(0) != B:
        return f"{what}: expected a [B, <= max_len] tensor of token ids, got shape {tuple(got.shape)}"
    if got.size(1) == W + 1 and bool((got[:, 0] == c.bos).all()) and torch.equal(got[:, 1:], exp):
        return f"{what}: the output starts with BOS; return the generated tokens only (without BOS, with EOS)"
    if got.size(1) > W and bool((got[:, W:] == 0).all()) and torch.equal(got[:, :W], exp):
        return (f"{what}: the output is {got.size(1)} wide but every row has finished after {W} steps: stop as soon as "
                "every row has produced EOS (the result is as wide as its longest row)")
    n = min(got.size(1), W)
    free = c.free[:, :n]
    if torch.equal(got[:, :n], free) and not torch.equal(free, exp[:, :n]):
        return (f"{what}: rows that have produced EOS must be filled with 0 (pad) after it; yours keep generating "
                "tokens")
    if got.size(1) == W + 1 and torch.equal(got[:, 1:], exp):
        return f"{what}: the output has one extra token at the start (BOS?)"
    hint = ("each step appends the arg-max of the last position's logits for the whole batch; if Transformer.forward "
            "itself is wrong (see the other checks), fix that first")
    if got.shape != exp.shape:
        return f"{what}: expected shape {tuple(exp.shape)}, got {tuple(got.shape)} ({hint})"
    diff = (got != exp).nonzero()
    i, j = (int(x) for x in diff[0])
    return (f"{what}: differs from the reference at {len(diff)} positions, first at row {i}, step {j} (got "
            f"{int(got[i, j])}, expected {int(exp[i, j])}): {hint}")


@check(points=3, description="greedy_decode: no BOS, zeros after EOS, stops when every row has finished or at "
                           "max_len, and agrees with the reference",
       kind="decoding", promises=("transformer.greedy", "decode.format", "decode.stop"),
       targets=("Transformer.greedy_decode",))
def test_greedy_decode(sub, ref, once):
    for c in once(lambda d: _search(d, ref)):
        got = _run(sub, c)
        what = _describe(c)
        if got.dtype != c.exp.dtype:
            fail(f"{what}: expected token ids of dtype int64, got {str(got.dtype).replace('torch.', '')}")
        if torch.equal(got, c.exp):
            continue
        if got.dim() != 2 or got.size(0) != c.src.size(0):
            fail(f"{what}: expected a [B, <= max_len] tensor, got shape {tuple(got.shape)}")
        if got.size(1) > c.max_len:
            fail(f"{what}: the output is {got.size(1)} wide, more than max_len (BOS must not be part of it)")
        firsts = [_first(r, c.eos) for r in got]
        for i, f in enumerate(firsts):
            if f is not None and bool((got[i, f + 1:] != 0).any()):
                fail(f"{what}: row {i} produced EOS at step {f} but has non-zero tokens after it: a finished row is "
                     "filled with 0 (pad)")
        if all(f is not None for f in firsts):
            if got.size(1) != max(firsts) + 1:
                fail(f"{what}: every row has produced EOS by step {max(firsts)}, so the result must be "
                     f"{max(firsts) + 1} wide (stop as soon as every row has finished); yours is {got.size(1)} wide")
        elif got.size(1) != c.max_len:
            fail(f"{what}: some rows never produce EOS, so decoding must run to max_len={c.max_len}; yours is "
                 f"{got.size(1)} wide")
        fail(_diagnose(got, c))
