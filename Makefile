# The two commands: `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench loadtest gpu-check clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Dependencies and their versions live in pyproject.toml only. pip prints a line per package it installs.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	@echo "==> Installing gan_core and the app's dependencies into $(VENV) (PyTorch is large: minutes the first time)"
	$(BIN)/pip install --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	@echo "==> Installing the test tools (pytest, Playwright, ruff)"
	$(BIN)/pip install --disable-pip-version-check -e ".[dev]"
	touch $@

# MALLOC_ARENA_MAX=2: page runs are threads; glibc's default of up to 8 arenas per core keeps the memory
# of a class of 30 long after it left (see app_shared/session_janitor.py, which also caps it at start-up)
run: $(VENV)/.installed
	MALLOC_ARENA_MAX=2 $(BIN)/streamlit run app.py --server.port $(PORT)

test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run_all

loadtest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m load -p no:cacheprovider tests/test_load.py

# One short script for a CUDA machine that has only the engine's packages (see benchmarks/gpu_check.py)
gpu-check:
	$(PYTHON) -m benchmarks.gpu_check --out $${OUT:-benchmarks/results/gpu}

clean:
	rm -rf $(VENV) runs .pytest_cache
