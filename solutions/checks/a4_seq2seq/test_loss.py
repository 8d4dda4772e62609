"""Hidden checks of sequence_loss: values (pad ignored, any pad_id) and gradients against the reference."""

from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn.functional as F

from grader.checks import assert_close, assert_grad_close, check, expect_tensor, fail
from grader.sandbox.wire import GradInput


def _case(d, ref, pad_id=0, dtype=torch.float64, grads=False):
    B, T, V = d.distinct(3, 2, 9)
    V = max(V, 4)
    logits = d.randn(B, T, V, scale=2.0).to(dtype)
    targets = d.randint(0, V, (B, T))
    lengths = [d.int(1, T) for _ in range(B)]
    lengths[d.int(0, B - 1)] = T
    for b, n in enumerate(lengths):
        targets[b, n:] = pad_id  # trailing padding ...
    targets[d.int(0, B - 1), 0] = pad_id  # ... and one pad in front, which is ignored just the same
    lg = logits.clone().requires_grad_(grads)
    with torch.set_grad_enabled(grads):
        loss = ref.sequence_loss(lg, targets, pad_id)
        if grads:
            loss.backward()
    c = SimpleNamespace(logits=logits, targets=targets, pad_id=pad_id, loss=loss.detach(),
                        dlogits=lg.grad if grads else None, dtype=dtype)
    flat = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=pad_id, reduction="sum")
    c.all_tokens = flat / targets.numel()
    c.with_pad = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    c.summed = flat
    c.per_row = (F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=pad_id, reduction="none").sum(1)
                 / (targets != pad_id).sum(1).clamp(min=1)).mean()
    return c


def _diagnoses(c):
    pad = "pad tokens are counted in the average: divide by the number of non-pad targets only"
    return [
        (lambda a, e: abs(float(a) - float(c.all_tokens)) < 1e-6 * abs(float(c.all_tokens)) + 1e-9, pad),
        (lambda a, e: abs(float(a) - float(c.with_pad)) < 1e-6 * abs(float(c.with_pad)) + 1e-9,
         "pad targets are scored as if they were real tokens: ignore them (ignore_index=pad_id, or a mask)"),
        (lambda a, e: abs(float(a) - float(c.summed)) < 1e-6 * abs(float(c.summed)) + 1e-9,
         "your loss is the sum over tokens: average it over the non-pad targets"),
        (lambda a, e: abs(float(a) - float(c.per_row)) < 1e-6 * abs(float(c.per_row)) + 1e-9,
         "your loss averages per sentence then over sentences: average over all non-pad tokens at once"),
    ]


@check(points=1, description="sequence_loss equals the reference's (pad ignored, pad_id honoured, "
                             "float32 and float64; 0 when every target is pad)",
       kind="values", promises=("loss.mean", "loss.all-pad", "dtype.float32-float64"),
       targets=("sequence_loss",))
def test_sequence_loss(sub, ref, once):
    cs = once(lambda d: [_case(d.child(0), ref), _case(d.child(1), ref, pad_id=d.int(1, 3)),
                         _case(d.child(2), ref, dtype=torch.float32)])
    for c in cs:
        what = f"sequence_loss(logits [{', '.join(map(str, c.logits.shape))}], targets, pad_id={c.pad_id}) " \
               f"in {str(c.dtype).replace('torch.', '')}"
        got = sub.call("sequence_loss", c.logits, c.targets, c.pad_id).value
        expect_tensor(got, what, (), c.dtype)
        assert_close(got, c.loss, what, diagnoses=_diagnoses(c))
    c = cs[0]
    empty = torch.full_like(c.targets, c.pad_id)
    got = expect_tensor(sub.call("sequence_loss", c.logits, empty, c.pad_id).value,
                        "sequence_loss with only pad targets", (), c.dtype)
    if not torch.isfinite(got) or float(got) != 0.0:
        fail(f"sequence_loss with only pad targets gives {float(got):.6g}: with no token to average over the "
             "loss must be 0 (divide by max(count, 1)), never NaN")


@check(points=1, description="sequence_loss: gradient w.r.t. the logits equals the reference's",
       kind="gradients", promises=("loss.mean",),
       targets=("sequence_loss",))
def test_sequence_loss_gradient(sub, ref, once):
    c = once(lambda d: _case(d, ref, grads=True))
    r = sub.call("sequence_loss", GradInput(c.logits), c.targets, c.pad_id,
                 backward=torch.tensor(1.0, dtype=torch.float64))
    assert_grad_close(r.input_grads[0], c.dlogits, "d sequence_loss / d logits")
