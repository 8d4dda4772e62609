"""A test may skip for a missing browser, hub or root only where make test did not promise it."""

import pytest

from tests.requirements import unavailable


def test_missing_part_skips_when_not_required(monkeypatch):
    monkeypatch.setenv("SEQGRADE_REQUIRE", "root")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        unavailable("browser", "no chromium")


def test_missing_part_fails_when_make_test_installed_it(monkeypatch):
    monkeypatch.setenv("SEQGRADE_REQUIRE", "browser,hub")
    with pytest.raises(pytest.fail.Exception, match="no chromium.*requires it"):
        unavailable("browser", "no chromium")
