#!/usr/bin/env bash
# Headless Chromium and its WebDriver from Debian's packages, for the browser tests (tests/browser/,
# tests/hub/), and a font for the course's Chinese text in their screenshots. Idempotent; needs root
# to install. Exits 0 without installing when it cannot (not root, no apt-get): the browser tests
# then skip, saying why.
set -euo pipefail
pkgs=(chromium chromium-driver fonts-wqy-microhei)
if dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${pkgs[*]} (headless browser tests)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; } \
    || echo "WARNING: ${pkgs[*]} could not be installed; the browser tests will be skipped." >&2
else
  echo "WARNING: chromium/chromedriver are missing and cannot be installed here (needs root and apt-get);" >&2
  echo "         the browser tests will be skipped." >&2
fi
