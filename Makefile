# Two entry points, both safe on a fresh machine: they build .venv when needed.
#   make demo   grades the bundled example class end to end (writes ./demo-out)
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The venv's scripts first on PATH: nbgrader runs `alembic` and `jupyter` by name.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test venv system-deps release clean bench mutation docs

$(STAMP): pyproject.toml constraints.txt scripts/setup-venv.sh
	PYTHON=$(PYTHON) bash scripts/setup-venv.sh $(VENV)
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

demo: system-deps $(STAMP)
	$(BIN)/seqgrade demo --out demo-out

test: system-deps $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

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
