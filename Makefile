# One entry point for developers and CI. Each target creates the virtual environment it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Test processes (pytest-xdist): auto is one per core; 0 runs the tests in this process.
PYTEST_WORKERS ?= auto

.PHONY: run test check lint typecheck bench clean messages fuzz fuzz-corpus

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Runtime only: what `make run` needs.
$(VENV)/.runtime: pyproject.toml hatch_build.py src/shieldwall/index/_hamming.c | $(BIN)/python
	$(PIP) install -e .
	touch $@

# Everything the tests, the linters and the benchmarks need (pdqhash compiles from source).
$(VENV)/.dev: pyproject.toml hatch_build.py src/shieldwall/index/_hamming.c | $(BIN)/python
	$(PIP) install -e '.[dev,reference]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/shieldwall serve --demo

# axe-core (the accessibility checker the browser tests run on the public pages), from the npm
# registry into a git-ignored folder; `make test` requires it (SHIELDWALL_REQUIRE_AXE), so CI
# really runs the checks.
AXE_VERSION ?= 4.14.1
AXE_DIR := .cache/axe-core-$(AXE_VERSION)
AXE := $(AXE_DIR)/axe.min.js
$(AXE):
	mkdir -p $(AXE_DIR)
	cd $(AXE_DIR) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
		&& tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js \
		&& rm axe-core-$(AXE_VERSION).tgz

test: $(VENV)/.dev $(AXE)
	SHIELDWALL_AXE_JS=$(AXE) SHIELDWALL_REQUIRE_AXE=1 \
		$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev
	$(BIN)/mypy

check: lint typecheck test

# The public pages' message catalogues: extract the messages of the templates and the pages'
# Python (messages.pot), then merge them into each language's messages.po (translate the new,
# empty ones; tests/web/test_i18n.py fails while one is missing). Read at run time: no .mo.
LOCALE := src/shieldwall/web/locale
messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
		--project=Shieldwall --copyright-holder="Shieldwall contributors" -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) --no-fuzzy-matching --width=100

# vpdq (Meta's video hasher, the reference for bench/video_vpdq.py) compiles against FFmpeg's
# -dev packages (Debian: libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
# libavdevice-dev libavfilter-dev pkg-config); without them the comparison is skipped.
bench: $(VENV)/.dev
	-$(PIP) install vpdq 2>/dev/null || echo "vpdq could not be built: video comparison skipped"
	$(BIN)/python bench/run_all.py

# Coverage-guided fuzzing (atheris) of every parser of untrusted input (fuzz/README.md): each
# target in turn, under nice, for FUZZ_RUNS executions or FUZZ_SECONDS each (0: no limit),
# starting from its seeds in fuzz/corpus/<target>/; what it learns stays in .cache/fuzz/, a
# crashing input goes to .cache/fuzz/artifacts/. Prints a Markdown row per target; fails on a
# crash. FUZZ_TARGETS picks some (default: all).
FUZZ_RUNS ?= 1000000
FUZZ_SECONDS ?= 0
FUZZ_TARGETS ?=
fuzz: $(VENV)/.dev
	PYTHONPATH=src $(BIN)/python fuzz/fuzz_all.py --runs $(FUZZ_RUNS) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Regenerate the committed seed corpora (small, generated media: shieldwall.media.synthetic).
fuzz-corpus: $(VENV)/.dev
	PYTHONPATH=src:fuzz $(BIN)/python fuzz/make_corpus.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
