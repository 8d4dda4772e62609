"""The seqgrade wheel a student bundle installs: the `grader` package only, as the grader runs it.

Built from the installed seqgrade itself (its package files and its own
metadata), with no build backend, network or source tree: the same bytes for
the same seqgrade (fixed timestamps and order). Only `grader/` goes in, never
`solutions/`, `tests/` or the course; `wheel_problems` checks that, and the
bundle audit calls it.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import SeqgradeError

PACKAGE = "grader"
DIST = "seqgrade"
SUFFIXES = (".py", ".json", ".yaml", ".md", ".safetensors")  # pyproject.toml's package data, and the code
EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes on every build


@dataclass(frozen=True)
class Wheel:
    path: Path
    version: str
    requires: tuple[str, ...]  # Requires-Dist lines without an extra (what every install needs)


def wheel_name(version: str) -> str:
    return f"{DIST}-{version}-py3-none-any.whl"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _package_files() -> list[tuple[str, Path]]:
    import grader

    root = Path(grader.__file__).resolve().parent
    files = []
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and not f.is_symlink() and f.suffix in SUFFIXES and "__pycache__" not in rel.parts:
            files.append((f"{PACKAGE}/{rel.as_posix()}", f))
    return files


def build_wheel(dest: Path) -> Wheel:
    """Write the wheel of the running seqgrade into `dest`; SeqgradeError when seqgrade is not installed."""
    try:
        dist = importlib.metadata.distribution(DIST)
    except importlib.metadata.PackageNotFoundError:
        raise SeqgradeError("seqgrade is not installed, so its wheel cannot be built: install it first "
                            "(`pip install -e .` in the course repository, or `make venv`)") from None
    version = dist.version
    metadata = dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {version}\n"
    entry_points = dist.read_text("entry_points.txt") or "[console_scripts]\nseqgrade = grader.cli:main\n"
    info = f"{DIST}-{version}.dist-info"
    members: list[tuple[str, bytes]] = [(name, f.read_bytes()) for name, f in _package_files()]
    members += [
        (f"{info}/METADATA", metadata.encode("utf-8")),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: seqgrade release\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
        (f"{info}/entry_points.txt", entry_points.encode("utf-8")),
    ]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode("utf-8")))
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / wheel_name(version)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    requires = tuple(r for r in (dist.requires or []) if "extra ==" not in r.replace('"', "").replace("'", ""))
    return Wheel(path, version, requires)


def wheel_problems(path: Path) -> list[str]:
    """Every member of a wheel outside `grader/` and its own .dist-info (empty when it holds only those)."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    info = [n for n in names if n.split("/", 1)[0].endswith(".dist-info")]
    roots = {n.split("/", 1)[0] for n in info}
    problems = [f"{path.name}: {n} is not part of the grader package" for n in names
                if not n.startswith(f"{PACKAGE}/") and n not in info]
    if len(roots) > 1:
        problems.append(f"{path.name}: several .dist-info folders ({', '.join(sorted(roots))})")
    return problems


def wheel_texts(path: Path) -> dict[str, str]:
    """The wheel's text members (for the bundle audit)."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            try:
                out[name] = z.read(name).decode("utf-8")
            except UnicodeDecodeError:
                continue
    return out
