# A hostile submission: wrong answers (zeros), plus tricks that fool graders that run
# tests in the student's own process. seqgrade compares in the trusted process, so it earns nothing.
import sys

import torch
import torch.testing

torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
print("============================= 40 passed in 0.12s =============================")
sys.stdout.flush()


def __getattr__(name):
    """Every class and function the contract asks for, returning zeros."""
    class Zeros(torch.nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()

        def forward(self, *args, **kwargs):
            x = next(a for a in args if isinstance(a, torch.Tensor))
            return torch.zeros_like(x, dtype=torch.get_default_dtype())

    return Zeros
