"""Screenshots of the pages seqgrade writes, with a headless Chromium (Debian's `chromium` package).

Used by `seqgrade demo` to show the class dashboard and a feedback page as a
person sees them. The pages are seqgrade's own (escaped, with a
Content-Security-Policy that allows no request); the browser runs on a fresh
profile with networking features off, and only reads local files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import SeqgradeError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """The headless-capable Chromium on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1400, browser: str | None = None,
               timeout: float = 120) -> Path:
    """`page` (a local HTML file) rendered at `width` x `height` CSS pixels into `png`."""
    browser = browser or find_browser()
    if browser is None:
        raise SeqgradeError("no Chromium found (scripts/install-browser.sh installs Debian's chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seqgrade-chromium-") as profile:
        args = [browser, "--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--lang=en-US", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                f"--screenshot={png.resolve()}", Path(page).resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium's own sandbox cannot start as root
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                                  env=dict(os.environ, HOME=profile))
        except subprocess.TimeoutExpired:
            raise SeqgradeError(f"Chromium took more than {timeout:.0f} s to render {page}") from None
    if proc.returncode != 0 or not png.is_file():
        raise SeqgradeError(f"Chromium could not render {page} (exit {proc.returncode}): {proc.stderr[-500:]}")
    return png
