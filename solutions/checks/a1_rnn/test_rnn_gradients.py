"""Hidden checks of RNN's gradients (w.r.t. the input, hx and every parameter) against the reference.

The loss is a random linear function of output and h_n, so every output
element matters. These catch .detach(), .data, torch.no_grad() and in-place
writes that break autograd, which value checks cannot see.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from grader.checks import check


def _load_cases():
    """The shared helpers in _cases.py, loaded by path (a check file cannot import a sibling)."""
    spec = importlib.util.spec_from_file_location(f"{__name__}_cases", Path(__file__).with_name("_cases.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


def _case(d, ref, **kw):
    T, B, I, H = cases.sizes(d)
    return cases.rnn_case(d, ref, T=T, B=B, I=I, H=H, grads=True, **kw)


@check(points=2, description="RNN (one layer): gradients w.r.t. input, hx and every parameter")
def test_rnn_gradients(sub, ref, once):
    c = once(lambda d: _case(d, ref))
    cases.run_gradients(sub, c, "RNN(x, hx)")


@check(points=2, description="RNN (two layers, bidirectional, batch_first): gradients w.r.t. input, hx, parameters")
def test_rnn_gradients_deep(sub, ref, once):
    c = once(lambda d: _case(d, ref, L=2, bidir=True, batch_first=True))
    cases.run_gradients(sub, c, "RNN(num_layers=2, bidirectional=True, batch_first=True)(x, hx)")
