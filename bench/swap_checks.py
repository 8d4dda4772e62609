"""A checkout of this seqgrade with one assignment's checks taken from another checkout.

    .venv/bin/python bench/swap_checks.py /tmp/old-main /tmp/grader-old-checks --assignment a5_transformer
    .venv/bin/python bench/swap_checks.py /tmp/old-main /tmp/grader-old-checks --keep test_parallel_measured.py
    .venv/bin/python bench/bench_grade.py --skip-nbgrader --root /tmp/grader-old-checks

Comparing two versions with `bench_grade.py --root` measures everything that
changed between them: the grader and the checks it runs. This writes OUT,
a copy of this checkout's tracked files in which the assignment's public and
hidden check folders are OTHER's, so the same comparison can separate the two:
OTHER against OUT is this grader against OTHER's on the same checks and the
same class. `--keep FILE` keeps one of this checkout's hidden check files as
well (for example a check a change added on purpose, whose cost belongs to it);
the fingerprint catalogue (`bugs.py`) is always this checkout's, since the
grader reads it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def check_folders(root: Path, assignment: str) -> list[Path]:
    """The assignment's public and hidden check folders, relative to `root` (as course.yaml names them,
    or where a course.yaml without an assignments table kept them)."""
    from grader.config import load_config

    try:
        a = load_config(root / "course" / "course.yaml").assignment(assignment)
        folders = [a.public_checks, a.hidden_checks]
        return [Path(f).resolve().relative_to(root.resolve()) for f in folders]
    except Exception:  # noqa: BLE001 - an older course.yaml: the fixed layout of the time
        return [Path("assignments") / assignment / "checks", Path("solutions") / "checks" / assignment]


def build(other: Path, out: Path, assignment: str, keep: list[str]) -> None:
    if out.exists():
        raise SystemExit(f"{out} exists: name a new folder")
    ours = check_folders(HERE, assignment)
    hidden = ours[1]
    kept = {name: (HERE / hidden / name).read_bytes() for name in keep + ["bugs.py"] if (HERE / hidden / name).is_file()}
    missing = [k for k in keep if k not in kept]
    if missing:
        raise SystemExit(f"not in {hidden}: {', '.join(missing)}")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=HERE, check=True, capture_output=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = HERE / rel
        if src.is_file() and not src.is_symlink():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out / rel)
    for mine, theirs in zip(ours, check_folders(other, assignment)):
        shutil.rmtree(out / mine, ignore_errors=True)
        shutil.copytree(other / theirs, out / mine, ignore=shutil.ignore_patterns("__pycache__"))
    for name, data in kept.items():
        (out / hidden / name).write_bytes(data)
    print(f"{out}: this checkout with {assignment}'s checks from {other}"
          + (f", keeping {', '.join(keep)}" if keep else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("other", type=Path, help="the checkout whose checks to take")
    ap.add_argument("out", type=Path, help="a new folder for the result")
    ap.add_argument("--assignment", default="a5_transformer")
    ap.add_argument("--keep", action="append", default=[], metavar="FILE",
                    help="one of this checkout's hidden check files to keep (repeatable)")
    args = ap.parse_args()
    build(args.other.resolve(), args.out.resolve(), args.assignment, args.keep)


if __name__ == "__main__":
    main()
