#!/usr/bin/env bash
# Create or update the project's virtual environment. torch is pinned by
# constraints.txt to the CPU build that lies on this machine's disk.
set -euo pipefail
venv=${1:-.venv}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -c "$here/constraints.txt" -e "$here[test,nbgrader,dask,browser]"
# The Jupyter kernel nbgrader runs notebooks with: the venv's own python.
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (seqgrade)" >/dev/null
