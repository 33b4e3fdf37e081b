# One entry point for developers and CI. Each target creates the virtual environment it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Test processes (pytest-xdist): auto is one per core; 0 runs the tests in this process.
PYTEST_WORKERS ?= auto

.PHONY: run test check lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Runtime only: what `make run` needs.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# Everything the tests, the linters and the benchmarks need (pdqhash compiles from source).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev,reference]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/shieldwall serve --demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

check: lint typecheck test

# vpdq (Meta's video hasher, the reference for bench/video_vpdq.py) compiles against FFmpeg's
# -dev packages (Debian: libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
# libavdevice-dev libavfilter-dev pkg-config); without them the comparison is skipped.
bench: $(VENV)/.dev
	-$(PIP) install vpdq 2>/dev/null || echo "vpdq could not be built: video comparison skipped"
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
