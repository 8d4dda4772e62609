# Entry points, all safe on a fresh machine: they install what they need.
#   make demo       grades the bundled example class end to end (writes ./demo-out)
#   make test       runs the whole test suite
#   make hub        starts the course on a local JupyterHub (http://127.0.0.1:8000); make hub-stop stops it
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The venv's scripts first on PATH: nbgrader runs `alembic` and `jupyter` by name.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test venv system-deps browser-deps hub-deps hub hub-stop release clean bench mutation docs

$(STAMP): pyproject.toml constraints.txt scripts/setup-venv.sh
	PYTHON=$(PYTHON) bash scripts/setup-venv.sh $(VENV)
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

# Debian's headless Chromium and chromedriver, for the browser tests.
browser-deps:
	bash scripts/install-browser.sh

# The hub's own environment (JupyterHub, nbgrader, seqgrade; configurable-http-proxy from npm), outside .venv.
hub-deps:
	bash scripts/setup-hub.sh

# HUB_ARGS, e.g. HUB_ARGS="--port 8010 --students ann,ben,cat": see scripts/hub/localhub.py start --help
hub: system-deps hub-deps
	python3 scripts/hub/localhub.py start $(HUB_ARGS)

hub-stop:
	python3 scripts/hub/localhub.py stop

demo: system-deps browser-deps $(STAMP)
	$(BIN)/seqgrade demo --out demo-out

# What make test installs is required (tests/requirements.py): a missing browser or hub, or root where make
# runs as root, fails a test instead of skipping it. A hub environment that cannot be set up fails the
# JupyterHub test (saying why) while the rest of the suite still runs.
test: system-deps browser-deps $(STAMP)
	require=browser,hub; [ "$$(id -u)" = 0 ] && require=$$require,root; \
	bash scripts/setup-hub.sh || echo "ERROR: the hub's environment could not be set up; the JupyterHub test will fail." >&2; \
	SEQGRADE_REQUIRE=$$require $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

release: $(STAMP)
	$(BIN)/seqgrade release --starter-only

# The generated tables of docs/writing-checks.md (promises -> checks, coverage matrix).
docs: $(STAMP)
	$(BIN)/python scripts/update_generated_docs.py

# Every in-tree mutant under 20 fresh seeds: a catch must never be luck (slow: a benchmark-style run;
# `make test` runs a sample). MUTATION_ARGS="--first-seed N" reproduces a run.
mutation: system-deps $(STAMP)
	$(BIN)/python -m tests.checks.mutation $(MUTATION_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench_grade.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache
