"""Public checks of sequence_loss against torch's cross_entropy (with ignore_index)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import assert_close, check, expect_tensor, fail

F64 = torch.float64


@check(points=1, description="sequence_loss equals F.cross_entropy over the non-pad targets, and is 0 (not "
                             "NaN) when every target is pad",
       kind="values", promises=("loss.mean", "loss.all-pad"),
       targets=("sequence_loss",))
def test_public_sequence_loss(sub, draw):
    B, T, V = draw.distinct(3, 2, 9)
    V = max(V, 3)
    logits = draw.randn(B, T, V, scale=2.0)
    targets = draw.randint(1, V, (B, T))
    for b in range(B):
        targets[b, draw.int(1, T):] = 0
    targets[0, -1] = 0  # by construction, at least one pad target (else counting pad would not show)
    expected = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=0)
    got = expect_tensor(sub.call("sequence_loss", logits, targets).value, "sequence_loss (a scalar)", (), F64)
    counted = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=0,
                              reduction="sum") / targets.numel()
    with_pad = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    assert_close(got, expected, "sequence_loss", diagnoses=[
        (lambda a, e: torch.allclose(a, counted), "pad tokens are counted in the average: divide by the number "
                                                  "of non-pad targets only"),
        (lambda a, e: torch.allclose(a, with_pad), "pad targets are scored as if they were real tokens: ignore "
                                                   "them (ignore_index=pad_id, or a mask)")])
    empty = torch.zeros_like(targets)
    got = expect_tensor(sub.call("sequence_loss", logits, empty).value, "sequence_loss with only pad targets",
                        (), F64)
    if not torch.isfinite(got):
        fail(f"sequence_loss with only pad targets gives {float(got)}: there are no tokens to average over, "
             "the loss must be 0 (divide by max(count, 1)), never NaN")
    if float(got) != 0.0:
        fail(f"sequence_loss with only pad targets gives {float(got):.6g}, expected 0")
