"""Regenerate what `assignments/` derives from `solutions/`: starter code and public check data."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch

from ..catalog import Assignment
from ..config import CourseConfig
from ..engine.loading import load_trusted_module
from .starter import make_starter


@dataclass
class Generated:
    path: Path
    kind: str  # "starter" | "data"
    content: bytes | dict  # file bytes, or tensors for data files


def starter_files(cfg: CourseConfig, assignments: list[Assignment] | None = None) -> list[Generated]:
    out = []
    for a in assignments or list(cfg.assignments.values()):
        ref = a.reference
        if not ref.is_file():
            continue
        text = make_starter(ref.read_text(encoding="utf-8"), a.id, a.filename)
        out.append(Generated(a.starter_dir / a.filename, "starter", text.encode("utf-8")))
    return out


def data_files(cfg: CourseConfig, assignments: list[Assignment] | None = None) -> list[Generated]:
    """Expected outputs for the public checks, from `solutions/checks/<id>/public_data.py: build(ref)`."""
    torch.set_num_threads(1)  # small tensors: threads only cost here (50 s instead of 2.5 s under load)
    out = []
    for a in assignments or list(cfg.assignments.values()):
        builder = a.hidden_checks / "public_data.py"
        if not builder.is_file() or not a.reference.is_file():
            continue
        ref = load_trusted_module(a.reference, f"seqgrade_reference_{a.module}")
        spec = importlib.util.spec_from_file_location(f"seqgrade_public_data_{a.id}", builder)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name, tensors in mod.build(ref).items():
            out.append(Generated(a.public_checks / "data" / name, "data", tensors))
    return out


def differs(g: Generated) -> bool:
    """Whether the file on disk differs from what would be generated (data compared by value)."""
    if not g.path.is_file():
        return True
    if g.kind == "starter":
        return g.path.read_bytes() != g.content
    from safetensors.torch import load_file

    current = load_file(str(g.path))
    if set(current) != set(g.content):
        return True
    for k, v in g.content.items():
        c = current[k]
        if c.shape != v.shape or c.dtype != v.dtype:
            return True
        if v.is_floating_point():
            if not torch.allclose(c, v, rtol=1e-9, atol=1e-12):
                return True
        elif not torch.equal(c, v):
            return True
    return False


def write(g: Generated) -> None:
    g.path.parent.mkdir(parents=True, exist_ok=True)
    if g.kind == "starter":
        g.path.write_bytes(g.content)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in g.content.items()}, str(g.path))
