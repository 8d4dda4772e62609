#!/usr/bin/env bash
# What `make hub` and the JupyterHub browser test need, on a fresh Debian machine (as root):
#   - a virtual environment the hub's Unix users can run: Debian's python3 (the project's .venv may
#     use a Python under /root, which other users cannot run), with JupyterHub, nbgrader's server and
#     lab extensions, JupyterLab and seqgrade (the grader package only, never solutions/);
#   - configurable-http-proxy, JupyterHub's proxy, from the npm registry.
# Both live under `localhub.py root` (/srv/seqgrade-hub/<checkout>-<hash>/), outside the checkout.
# Idempotent: a stamp records what was installed; run again after pyproject.toml or constraints.txt
# change. The Chromium of the browser test comes from scripts/install-browser.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
CHP_VERSION=5.3.0          # configurable-http-proxy; needs Node.js >= 20 (4.6.3 runs on older Node)
root=$("$python" "$here/scripts/hub/localhub.py" root 2>/dev/null || python3 "$here/scripts/hub/localhub.py" root)
venv=$root/venv
want=$(cat "$here/pyproject.toml" "$here/constraints.txt" "$0" | sha1sum | cut -c1-16)
if [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$want" ] && [ -x "$venv/bin/configurable-http-proxy" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "scripts/setup-hub.sh: run as root (make hub creates Unix users; this installs Debian packages)" >&2
  exit 1
fi

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "installing python3 and python3-venv (the hub's Python)..." >&2
  apt_install python3 python3-venv
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (JupyterHub's proxy)..." >&2
  apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || CHP_VERSION=4.6.3

umask 022
mkdir -p "$root"
chmod 755 "$root"
echo "building the hub's environment in $venv (JupyterHub, JupyterLab, nbgrader, seqgrade; about a minute)..." >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# seqgrade from a copy of the package (an in-tree build would leave build/ in the checkout);
# `localhub.py start` installs the checkout's grader/ again each time, so the hub runs the current code.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp "$here/pyproject.toml" "$here/README.md" "$src/"
cp -r "$here/grader" "$src/grader"
"$venv/bin/python" -m pip install --quiet -c "$here/constraints.txt" "$src[nbgrader,hub]"
echo "installing configurable-http-proxy@$CHP_VERSION from the npm registry..." >&2
npm install --prefix "$root/node" --no-audit --no-fund --loglevel=error "configurable-http-proxy@$CHP_VERSION" >/dev/null
ln -sf "$root/node/node_modules/.bin/configurable-http-proxy" "$venv/bin/configurable-http-proxy"
"$venv/bin/configurable-http-proxy" --version >/dev/null
echo "$want" > "$venv/.installed"
