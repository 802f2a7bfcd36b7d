# Developer entry points. The README documents `make example` and `make test`; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test lint clean

$(BIN)/python: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/pip install --quiet --group dev
	touch $(BIN)/python

## Run the whole test suite: lint, render matrix, bundle validation, generated projects.
test: $(BIN)/python lint
	$(BIN)/pytest

lint: $(BIN)/python
	$(BIN)/ruff check tests
	$(BIN)/ruff format --check tests
	$(BIN)/yamllint --strict copier.yml .yamllint.yaml

clean:
	rm -rf build .pytest_cache .ruff_cache
