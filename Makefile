# The two commands: `make run` starts the app, `make test` runs the lint and every test but the load test (`make loadtest`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-cluster replicas lint bench loadtest gpu-check clean requirements

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Every install is the same: the pinned sets in requirements.txt (the app) and requirements-dev.txt (the app and
# the test tools), compiled from pyproject.toml by `make requirements`; then gan_core itself, with no other
# dependency. tests/test_requirements.py fails when the pins drift from pyproject.toml or from the venv.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/activate
	@echo "==> Installing the app's pinned dependencies (requirements.txt) into $(VENV) (PyTorch is large: minutes the first time)"
	$(BIN)/pip install --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	@echo "==> Installing the test tools (requirements-dev.txt: pytest, Playwright, ruff)"
	$(BIN)/pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Re-pin after editing pyproject.toml's dependencies (needs uv: `pip install uv`; it reads PyPI)
UV_COMPILE := uv pip compile pyproject.toml --universal --python-version 3.11 -q
requirements:
	$(UV_COMPILE) -o requirements.txt
	$(UV_COMPILE) --extra dev -o requirements-dev.txt
	$(UV_COMPILE) --extra dev --extra cluster -c requirements-dev.txt -o requirements-cluster.txt

# MALLOC_ARENA_MAX=2: page runs are threads; glibc's default of up to 8 arenas per core keeps the memory
# of a class of 30 long after it left (see app_shared/session_janitor.py, which also caps it at start-up)
run: $(VENV)/.installed
	MALLOC_ARENA_MAX=2 $(BIN)/streamlit run app.py --server.port $(PORT)

test: lint
	$(BIN)/python -m pytest

# The slow tests (pytest marker `cluster`, not in `make test`): Ray jobs on a local cluster of a head with no CPUs
# and two one-CPU worker nodes, and two app replicas behind HAProxy (Debian's haproxy). About 4 minutes on 2 cores.
$(VENV)/.installed-cluster: requirements-cluster.txt $(VENV)/.installed-dev
	@echo "==> Installing Ray (requirements-cluster.txt: the test tools plus the cluster extra)"
	$(BIN)/pip install --disable-pip-version-check -r requirements-cluster.txt
	touch $@

test-cluster: $(VENV)/.installed-cluster
	$(BIN)/python -m pytest -m cluster -p no:cacheprovider tests/test_ray_job.py tests/test_replicas.py

# Two app replicas behind HAProxy with cookie affinity, on 127.0.0.1 (deploy/haproxy.cfg; docs/serving-a-class.md).
# PORT is HAProxy's; set GAN_RAY_ADDRESS so jobs outlive a replica.
replicas: $(VENV)/.installed
	MALLOC_ARENA_MAX=2 $(BIN)/python -m tools.replicas --port $(PORT) --replicas $${REPLICAS:-2}

# eslint (package.json, pinned in package-lock.json) lints all browser code: static/js/ (not static/vendor/)
# and the JS unit tests in tests/js/. `npm ci` installs exactly the lock file's versions into node_modules/.
node_modules/.installed: package.json package-lock.json
	@echo "==> Installing eslint (npm ci: package-lock.json)"
	npm ci --no-audit --no-fund
	touch $@

lint: $(VENV)/.installed-dev node_modules/.installed
	$(BIN)/ruff check .
	npx --no-install eslint static/js $(wildcard tests/js)

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run_all

loadtest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m load -p no:cacheprovider tests/test_load.py

# One short script for a CUDA machine that has only the engine's packages (see benchmarks/gpu_check.py)
gpu-check:
	$(PYTHON) -m benchmarks.gpu_check --out $${OUT:-benchmarks/results/gpu}

clean:
	rm -rf $(VENV) runs .pytest_cache
