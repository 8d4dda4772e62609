#!/usr/bin/env bash
# Headless Chromium and its WebDriver from Debian's packages, for the browser tests
# (tests/browser.py). Idempotent; needs root to install. Exits 0 without installing
# when it cannot (not root, no apt-get): the browser tests then skip, saying why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (headless browser tests)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # fonts-noto-cjk: the course's Chinese text in screenshots
  pkgs=(chromium chromium-driver fonts-noto-cjk)
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }
else
  echo "WARNING: chromium/chromedriver are missing and cannot be installed here (needs root and apt-get);" >&2
  echo "         the browser tests will be skipped." >&2
fi
