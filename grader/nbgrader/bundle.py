"""Files packed into text that a notebook cell can carry: check files, data, a reference.

nbgrader's model is that tests live in the notebook. A test cell that runs
seqgrade's checks in the kernel needs the check files (and, for hidden checks,
the reference solution), so they travel inside the source notebook as one
base64 string: a JSON manifest of ``{relative path: base64 bytes}``,
zlib-compressed, wrapped at 76 columns. Only what the course wrote goes in;
nothing here is ever executed while packing or unpacking.

This module is imported inside students' kernels: standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
import zlib
from pathlib import Path, PurePosixPath

FORMAT = "seqgrade-bundle-1"


class BundleError(ValueError):
    """A packed bundle that cannot be read (truncated, edited, or from another version)."""


def pack(files: dict[str, bytes], meta: dict | None = None) -> str:
    """Pack ``{relative posix path: bytes}`` (and a JSON-able `meta`) into wrapped base64 text."""
    for name in files:
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts or not p.parts:
            raise ValueError(f"bundle paths must be relative and inside the bundle: {name!r}")
    doc = {"format": FORMAT, "meta": meta or {},
           "files": {name: base64.b64encode(data).decode("ascii") for name, data in sorted(files.items())}}
    raw = zlib.compress(json.dumps(doc, sort_keys=True).encode("utf-8"), 9)
    return "\n".join(textwrap.wrap(base64.b64encode(raw).decode("ascii"), 76))


def unpack(text: str) -> tuple[dict[str, bytes], dict]:
    """The files and meta of a packed bundle; BundleError if it is damaged."""
    try:
        raw = zlib.decompress(base64.b64decode("".join(text.split()), validate=True))
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise BundleError(f"the packed checks in this notebook are damaged ({exc}); "
                          "ask your instructor for a fresh copy of the notebook") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError("the packed checks in this notebook come from another seqgrade version")
    files = {}
    for name, data in doc.get("files", {}).items():
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts:
            raise BundleError(f"the packed checks hold a path outside the bundle: {name!r}")
        files[name] = base64.b64decode(data)
    return files, dict(doc.get("meta") or {})


def digest(text: str) -> str:
    """A short id of a packed bundle (where it is unpacked to)."""
    return hashlib.sha256("".join(text.split()).encode("ascii")).hexdigest()[:16]


def read_tree(root: Path, prefix: str) -> dict[str, bytes]:
    """Every file under `root` (no caches, no hidden files) as ``{prefix/relative path: bytes}``."""
    out: dict[str, bytes] = {}
    for f in sorted(Path(root).rglob("*")):
        rel = f.relative_to(root)
        if not f.is_file() or "__pycache__" in rel.parts or any(part.startswith(".") for part in rel.parts):
            continue
        out[f"{prefix}/{rel.as_posix()}"] = f.read_bytes()
    return out


def write_tree(files: dict[str, bytes], root: Path) -> None:
    """Write unpacked files under `root` (which must be a fresh folder)."""
    for name, data in files.items():
        path = Path(root, *PurePosixPath(name).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
