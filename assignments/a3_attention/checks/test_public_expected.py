"""Public checks of a3_attention: additive and general attention and the positional encoding,
against expected outputs for fixed inputs and weights (data/*.safetensors)."""

import torch

from grader.checks import assert_close, check, expect_tuple, load_tensors

F64 = torch.float64


def _load(name):
    return load_tensors(__file__, name)


def _cases(data):
    for prefix in sorted({k.split(".", 1)[0] for k in data}):
        p = prefix + "."
        state = {k[len(p + "state."):]: v for k, v in data.items() if k.startswith(p + "state.")}
        yield prefix, state, data[p + "queries"], data[p + "keys"], data[p + "values"], data.get(p + "mask"), \
            data[p + "context"], data[p + "weights"]


def _run(sub, name, kwargs_of, file):
    for prefix, state, q, k, v, mask, ctx, w in _cases(_load(file)):
        kwargs = kwargs_of(state, q, k)
        m = sub.build(name, state, **kwargs, dtype=F64)
        what = f"{name}({', '.join(f'{a}={b}' for a, b in kwargs.items())}) on the fixed inputs of {file} " \
               f"case {prefix}" + (" with a mask" if mask is not None else "")
        got = expect_tuple(sub.call(m, q, k, v, mask).value, what, 2)
        assert_close(got[1], w, what + ": weights")
        assert_close(got[0], ctx, what + ": context")


@check(points=1, description="AdditiveAttention gives the expected outputs on fixed inputs",
       kind="values", promises=("additive.math",),
       targets=("AdditiveAttention",))
def test_public_additive_expected(sub):
    _run(sub, "AdditiveAttention", lambda s, q, k: dict(query_size=q.size(-1), key_size=k.size(-1),
                                                        hidden_size=s["w_v.weight"].size(1)),
         "additive.safetensors")


@check(points=1, description="GeneralAttention gives the expected outputs on fixed inputs",
       kind="values", promises=("general.math",),
       targets=("GeneralAttention",))
def test_public_general_expected(sub):
    _run(sub, "GeneralAttention", lambda s, q, k: dict(query_size=q.size(-1), key_size=k.size(-1)),
         "general.safetensors")


@check(points=0.5, description="sinusoidal_positional_encoding gives the expected values (float32 and float64)",
       kind="values", promises=("pe.values",),
       targets=("sinusoidal_positional_encoding",))
def test_public_positional_encoding_expected(sub):
    for name, pe in sorted(_load("positional_encoding.safetensors").items()):
        length, d_model = pe.shape
        got = sub.call("sinusoidal_positional_encoding", length, d_model, dtype=F64).value
        assert_close(got, pe, f"sinusoidal_positional_encoding({length}, {d_model}, dtype=float64)")
        got = sub.call("sinusoidal_positional_encoding", length, d_model).value
        assert_close(got, pe.float(), f"sinusoidal_positional_encoding({length}, {d_model}) (float32 by default)")
