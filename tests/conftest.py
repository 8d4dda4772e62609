"""Shared fixtures for seqgrade's own tests."""

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
# Headless Chromium fixtures (`browser`) for every test that needs one; the demo, run once (`demo`).
pytest_plugins = ["tests.browser.fixtures", "tests.demo_run"]

# Tests run in two xdist workers on two cores: one torch thread each, no oversubscription.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Every test starts from the same seed."""
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
