"""pytest fixtures for headless Chromium (loaded for every test by tests/conftest.py)."""

from __future__ import annotations

import pytest

from ..requirements import unavailable
from . import Browser, fresh_folder, missing


@pytest.fixture
def browser(request):
    """A headless Chromium whose screenshots go to test-artifacts/<test name>/; skipped, saying why, only
    where Debian's chromium/chromedriver or selenium cannot be had (make test installs them)."""
    reason = missing()
    if reason:
        unavailable("browser", reason)
    b = Browser(fresh_folder(request.node.name))
    yield b
    b.close()
    if b.shots:
        b.write_timeline()
