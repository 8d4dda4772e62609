"""Where a test may skip because the machine lacks something, and where it may not.

`make test` installs Chromium, chromedriver, the hub's environment and runs as root; it sets
SEQGRADE_REQUIRE (a comma-separated list: browser, hub, root) for what it installed, so there a
missing part fails the test instead of skipping it: a skip never hides missing work in CI. Run
by hand on a machine without them, the same tests skip and say why.
"""

from __future__ import annotations

import os

import pytest


def required(part: str) -> bool:
    return part in {p.strip() for p in os.environ.get("SEQGRADE_REQUIRE", "").split(",")}


def unavailable(part: str, reason: str) -> None:
    """Skip, saying why; fail instead when `make test` promised `part` is there."""
    if required(part):
        pytest.fail(f"{reason} (make test installed {part} and requires it: "
                    f"SEQGRADE_REQUIRE={os.environ['SEQGRADE_REQUIRE']})")
    pytest.skip(reason)
