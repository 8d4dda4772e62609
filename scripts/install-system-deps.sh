#!/usr/bin/env bash
# Debian packages the grader's sandbox needs. Idempotent; needs root to install.
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing bubblewrap (the grader's sandbox)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap >/dev/null; }
else
  echo "WARNING: bubblewrap (bwrap) is missing and cannot be installed here;" >&2
  echo "         the grader will run submissions without filesystem/network isolation." >&2
fi
