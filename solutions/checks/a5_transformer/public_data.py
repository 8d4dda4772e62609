"""Expected outputs for fixed inputs, shipped with the public checks of a5_transformer.

torch's nn.Transformer has no embeddings, positional encoding or generator, so the
public checks compare the whole model (logits on a padded batch, greedy decoding) with
the reference's outputs stored here. `build(ref)` is deterministic (fixed seeds, float64);
the release command calls it and writes each entry to
``assignments/a5_transformer/checks/data/<name>``. Run this file to write them by hand:
``python solutions/checks/a5_transformer/public_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import torch

F64 = torch.float64
CONFIG = (7, 8, 4, 2, 1, 1, 6)  # src_vocab, tgt_vocab, d_model, nhead, encoder layers, decoder layers, feed-forward


def _uniform(g, *shape, lo=-0.5, hi=0.5):
    return torch.rand(*shape, generator=g, dtype=F64) * (hi - lo) + lo


def _state(ref, g):
    m = ref.Transformer(*CONFIG).to(F64)
    st = {}
    for k, v in m.state_dict().items():
        if ".norm" in k and k.endswith("weight"):
            st[k] = 1 + _uniform(g, *v.shape, lo=-0.3, hi=0.3)
        elif ".norm" in k and k.endswith("bias"):
            st[k] = _uniform(g, *v.shape, lo=-0.1, hi=0.1)
        elif k == "generator.weight":
            st[k] = _uniform(g, *v.shape, lo=-2.0, hi=2.0)
        else:
            st[k] = _uniform(g, *v.shape)
    st["generator.bias"] = st["generator.bias"] * 0.1
    st["generator.bias"][0] = -50.0  # never emit the pad token
    m.load_state_dict(st)
    m.eval()
    return m, st


def _ragged(g, lengths, L, V, first=None):
    tokens = torch.randint(1, V, (len(lengths), L), generator=g)
    if first is not None:
        tokens[:, 0] = first
    return tokens.masked_fill(torch.arange(L)[None, :] >= torch.tensor(lengths)[:, None], 0)


def _first(row, eos):
    hits = (row == eos).nonzero()
    return int(hits[0]) if len(hits) else None


def build(ref) -> dict[str, dict[str, torch.Tensor]]:
    files = {}
    g = torch.Generator().manual_seed(5101)
    m, st = _state(ref, g)
    src = _ragged(g, [5, 3, 4], 5, CONFIG[0])
    tgt = _ragged(g, [4, 4, 2], 4, CONFIG[1], first=1)
    with torch.no_grad():
        logits = m(src, tgt)
    files["transformer.safetensors"] = {
        "config": torch.tensor(CONFIG), "src": src, "tgt_in": tgt, "logits": logits,
        **{f"state.{k}": v for k, v in st.items()},
    }
    # greedy decoding: weights and an EOS id that the rows reach at different steps before max_len
    max_len = 7
    for seed in range(5200, 5600):
        g = torch.Generator().manual_seed(seed)
        m, st = _state(ref, g)
        src = _ragged(g, [5, 4, 2], 5, CONFIG[0])
        bos = 1
        with torch.no_grad():
            free = m.greedy_decode(src, max_len, bos, -1)
        for eos in range(2, CONFIG[1]):
            firsts = [_first(r, eos) for r in free]
            if all(f is not None for f in firsts) and len(set(firsts)) == len(firsts) and max(firsts) < max_len - 1:
                with torch.no_grad():
                    out = m.greedy_decode(src, max_len, bos, eos)
                files["greedy.safetensors"] = {
                    "config": torch.tensor(CONFIG), "src": src, "decode": torch.tensor([max_len, bos, eos]),
                    "output": out, **{f"state.{k}": v for k, v in st.items()},
                }
                return files
    raise RuntimeError("no greedy decoding case found")


def write(files: dict[str, dict[str, torch.Tensor]], folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for name, tensors in files.items():
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / name))
        (folder / name).chmod(0o644)


if __name__ == "__main__":
    import importlib.util

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("transformer_reference", root / "solutions" / "transformer.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    write(build(ref), root / "assignments" / "a5_transformer" / "checks" / "data")
