"""Expected outputs for fixed inputs, shipped with the public checks of a3_attention.

torch has no Bahdanau (additive) or Luong general attention and no sinusoidal encoding,
so the public checks compare those with the reference's outputs stored here.
`build(ref)` is deterministic (fixed seeds, float64); the release command calls it and
writes each entry to ``assignments/a3_attention/checks/data/<name>``. Run this file to
write them by hand: ``python -m solutions.checks.a3_attention.public_data``.
"""

from __future__ import annotations

from pathlib import Path

import torch

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _uniform(g, *shape, scale=0.5):
    return (torch.rand(*shape, generator=g, dtype=F64) * 2 - 1) * scale


def _padding(lengths, K):
    return (torch.arange(K)[None, :] < torch.tensor(lengths)[:, None]).unsqueeze(1)


def _attention_case(ref, name, kwargs, prefix, g, B, Q, K, dq, dk, dv, mask):
    m = getattr(ref, name)(**kwargs).to(F64)
    state = {k: _uniform(g, *v.shape) for k, v in m.state_dict().items()}
    m.load_state_dict(state)
    q = torch.randn(B, Q, dq, generator=g, dtype=F64)
    k = torch.randn(B, K, dk, generator=g, dtype=F64)
    v = torch.randn(B, K, dv, generator=g, dtype=F64)
    with torch.no_grad():
        ctx, w = m(q, k, v, mask)
    out = {f"{prefix}state.{n}": t for n, t in state.items()}
    out.update({f"{prefix}queries": q, f"{prefix}keys": k, f"{prefix}values": v, f"{prefix}context": ctx,
                f"{prefix}weights": w})
    if mask is not None:
        out[f"{prefix}mask"] = mask
    return out


def build(ref) -> dict[str, dict[str, torch.Tensor]]:
    files: dict[str, dict[str, torch.Tensor]] = {}
    g = _gen(3101)
    additive = {}
    # a: distinct sizes with a key padding mask [B,1,K]; b: query_size == key_size == hidden_size, B == Q
    additive.update(_attention_case(ref, "AdditiveAttention", dict(query_size=3, key_size=5, hidden_size=4), "a.",
                                    g, 2, 3, 4, 3, 5, 2, _padding([4, 2], 4)))
    additive.update(_attention_case(ref, "AdditiveAttention", dict(query_size=4, key_size=4, hidden_size=4), "b.",
                                    g, 3, 3, 5, 4, 4, 3, None))
    files["additive.safetensors"] = additive
    g = _gen(3102)
    general = {}
    general.update(_attention_case(ref, "GeneralAttention", dict(query_size=3, key_size=5), "a.",
                                   g, 2, 3, 4, 3, 5, 2, _padding([3, 4], 4)))
    general.update(_attention_case(ref, "GeneralAttention", dict(query_size=4, key_size=4), "b.",
                                   g, 3, 3, 5, 4, 4, 3, None))
    files["general.safetensors"] = general
    files["positional_encoding.safetensors"] = {
        "pe_12_8": ref.sinusoidal_positional_encoding(12, 8, dtype=F64),
        "pe_5_6": ref.sinusoidal_positional_encoding(5, 6, dtype=F64),
    }
    return files


def write(files: dict[str, dict[str, torch.Tensor]], folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for name, tensors in files.items():
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / name))


if __name__ == "__main__":
    import importlib.util

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("attention_reference", root / "solutions" / "attention.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    write(build(ref), root / "assignments" / "a3_attention" / "checks" / "data")
