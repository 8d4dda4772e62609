"""Rewrite the generated blocks of docs/writing-checks.md (the promise table and the coverage matrix).

    .venv/bin/python scripts/update_generated_docs.py [--check]

--check writes nothing and exits 1 when the document is stale (tests/checks/test_contract.py does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.commands.listing import coverage_report, promises_report  # noqa: E402
from grader.checks.promises import replace_block  # noqa: E402
from grader.config import load_config  # noqa: E402

DOC = REPO / "docs" / "writing-checks.md"


def generated(document: str) -> str:
    cfg = load_config(REPO / "course" / "course.yaml")
    assignments = list(cfg.assignments.values())
    document = replace_block(document, "promises", promises_report(cfg, assignments, markdown=True))
    return replace_block(document, "coverage", coverage_report(cfg, assignments, markdown=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when the document is stale")
    args = ap.parse_args()
    current = DOC.read_text(encoding="utf-8")
    new = generated(current)
    if args.check:
        if new != current:
            print(f"{DOC.relative_to(REPO)} is stale: run `make docs`")
            sys.exit(1)
        print(f"{DOC.relative_to(REPO)} is up to date")
        return
    if new != current:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
