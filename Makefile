# Developer entry points. The README documents `make example` and `make test`; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test lint example release tags golden mutation clean

# The pinned tools, reinstalled whenever pyproject.toml changes.
DEV_TOOLS := $(VENV)/.dev-tools-installed
UV_VERSION := $(shell grep -o '"uv==[^"]*"' pyproject.toml | tr -d '"' | cut -d= -f3)

# uv installs them (measured here: 1-2 s against 18-28 s for pip with warm caches); pip brings uv.
$(DEV_TOOLS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --group dev
	touch $@

## Run the whole test suite: lint, render matrix, bundle validation, generated projects, the
## deliberate breakages, and the benchmarks once at tiny sizes (so they keep working; no timing
## is checked).
test: $(DEV_TOOLS) lint
	$(BIN)/pytest
	$(MAKE) mutation
	$(MAKE) benchmark-smoke

lint: $(DEV_TOOLS)
	$(BIN)/ruff check tests scripts migrations benchmarks
	$(BIN)/ruff format --check tests scripts migrations benchmarks
	$(BIN)/yamllint --strict copier.yml .yamllint.yaml
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## Render the default answers into build/example, install that project (a venv with its pinned
## runtime) and run its local pipeline: features -> train -> evaluate -> batch inference.
EXAMPLE := build/example
example: $(DEV_TOOLS)
	rm -rf $(EXAMPLE)
	$(BIN)/copier copy --defaults --vcs-ref HEAD --quiet . $(EXAMPLE)
	$(MAKE) -C $(EXAMPLE) install pipeline PYTHON=$(PYTHON)

## Render the golden projects of tests/golden again after an intended template change; review
## `git diff tests/golden` and commit it with the change (tests/test_golden.py compares them).
golden: $(DEV_TOOLS)
	$(BIN)/python tests/golden.py

## Deliberate breakages of the template, one at a time: each must make its named test fail.
mutation: $(DEV_TOOLS)
	$(BIN)/python tests/mutations.py

## Cut a release: make release VERSION=0.2.0 (CHANGELOG section, tag, tests/releases.yml).
release: $(DEV_TOOLS)
	$(BIN)/python scripts/release.py $(VERSION)

## Tag every release of tests/releases.yml at its commit, in a clone without the tags (Copier then
## says "No git tags found in template; using HEAD as ref"). Idempotent; needs only git and python3.
tags:
	$(PYTHON) scripts/release.py --restore-tags

## Benchmarks (DESIGN §8): every measure, recorded in docs/benchmarks.md and benchmarks/results/.
## Slow (about 20 minutes on 2 cores, time to first green included); run it on a quiet machine. ARGS passes options, e.g. ARGS="--repeats 5".
.PHONY: benchmark benchmark-smoke
benchmark: $(DEV_TOOLS)
	$(BIN)/python benchmarks/run.py $(ARGS)

## The same benchmarks at tiny sizes, once each (CI): they keep working; nothing is recorded and
## no timing is checked.
benchmark-smoke: $(DEV_TOOLS)
	$(BIN)/python benchmarks/run.py --smoke

clean:
	rm -rf build .pytest_cache .ruff_cache
