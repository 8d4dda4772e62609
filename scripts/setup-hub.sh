#!/usr/bin/env bash
# What `make hub` and the JupyterHub browser test need, on a fresh Debian machine (as root):
#   - a virtual environment the hub's Unix users can run: Debian's python3 (the project's .venv may
#     use a Python under /root, which other users cannot run), with JupyterHub, nbgrader's server and
#     lab extensions, JupyterLab and seqgrade's dependencies;
#   - configurable-http-proxy, JupyterHub's proxy, from the npm registry.
# Both live in `localhub.py root` (/srv/seqgrade-hub/env/<digest>/), outside the checkout.
# Idempotent: nothing to do when that folder is complete. The Chromium of the browser tests comes
# from scripts/install-browser.sh.
#   bash scripts/setup-hub.sh                # make hub: fails, saying why, when it cannot install
#   bash scripts/setup-hub.sh --if-possible  # make test: warns instead (the hub test then skips)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
CHP_VERSION=5.3.0          # configurable-http-proxy; needs Node.js >= 20 (4.6.3 runs on older Node)
optional=0
[ "${1:-}" = "--if-possible" ] && optional=1   # make test: warn and go on (the hub test then skips, saying why)
give_up() {
  if [ "$optional" = 1 ]; then
    echo "WARNING: $1; the JupyterHub test will be skipped." >&2
    exit 0
  fi
  echo "scripts/setup-hub.sh: $1" >&2
  exit 1
}
# One environment per set of dependencies (a digest of pyproject.toml, constraints.txt and this
# script), shared by checkouts that pin the same: each hub puts its checkout's grader/ first on
# PYTHONPATH, so the seqgrade installed here only brings the dependencies and the commands.
root=$(python3 "$here/scripts/hub/localhub.py" root)
venv=$root/venv
if [ -f "$venv/.installed" ] && [ -x "$venv/bin/configurable-http-proxy" ]; then
  exit 0
fi
[ "$(id -u)" = 0 ] || give_up "run as root (make hub creates Unix users; this installs Debian packages)"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "installing python3 and python3-venv (the hub's Python)..." >&2
  apt_install python3 python3-venv || give_up "python3-venv could not be installed (apt-get)"
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (JupyterHub's proxy)..." >&2
  apt_install nodejs npm || give_up "nodejs and npm could not be installed (apt-get)"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || CHP_VERSION=4.6.3

umask 022
mkdir -p "$root"
chmod 755 "$(dirname "$(dirname "$root")")" "$(dirname "$root")" "$root"
exec 9>"$root.lock"
flock 9   # two checkouts installing the same environment at once: one builds, the other waits
if [ -f "$venv/.installed" ] && [ -x "$venv/bin/configurable-http-proxy" ]; then
  exit 0
fi
echo "building the hub's environment in $venv (JupyterHub, JupyterLab, nbgrader, seqgrade; about a minute)..." >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip || give_up "pip cannot run in $venv"
# seqgrade from a copy of the package (an in-tree build would leave build/ in the checkout).
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp "$here/pyproject.toml" "$here/README.md" "$src/"
cp -r "$here/grader" "$src/grader"
"$venv/bin/python" -m pip install --quiet -c "$here/constraints.txt" "$src[nbgrader,hub]" \
  || give_up "JupyterHub, JupyterLab and nbgrader could not be installed from PyPI"
echo "installing configurable-http-proxy@$CHP_VERSION from the npm registry..." >&2
npm install --prefix "$root/node" --no-audit --no-fund --loglevel=error "configurable-http-proxy@$CHP_VERSION" \
  >/dev/null || give_up "configurable-http-proxy could not be installed from the npm registry"
ln -sf "$root/node/node_modules/.bin/configurable-http-proxy" "$venv/bin/configurable-http-proxy"
"$venv/bin/configurable-http-proxy" --version >/dev/null
touch "$venv/.installed"
