# The two commands: `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test bench loadtest clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# MALLOC_ARENA_MAX=2: page runs are threads; glibc's default of up to 8 arenas per core keeps the memory
# of a class of 30 long after it left (see app_shared/session_janitor.py, which also caps it at start-up)
run: $(VENV)/.installed
	MALLOC_ARENA_MAX=2 $(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run_all

loadtest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m load -p no:cacheprovider tests/test_load.py

clean:
	rm -rf $(VENV) runs .pytest_cache
