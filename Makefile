# The two commands of README.md (`make book`, `make test`) and their helpers.
# Each target creates or updates the virtual environment .venv first.
#
# TORCH picks the PyTorch build installed before the package (the package itself accepts any
# torch>=2.1,<3). The default takes your platform's build from PyPI (a CUDA build on Linux);
# on a CPU-only machine pass e.g. TORCH="torch==2.13.0" or
# TORCH="torch --index-url https://download.pytorch.org/whl/cpu".

PYTHON ?= python3
TORCH  ?= 'torch>=2.1,<3'
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the book's notebooks, as the tests and the runner list them (expanded only in recipes, after .venv)
NOTEBOOKS ?= $(shell $(BIN)/python -c 'from mlnotes.runner import book_notebooks; print(*book_notebooks("book"))')

# CPU profiles. The stored outputs come from whatever machine ran `make execute`; `make test`
# re-executes the notebooks under another profile (other vector kernels, another thread count),
# so an output that holds only where it was stored fails here, not on a learner's laptop
# (CONTRIBUTING.md, "Writing a notebook"). `make nbval PROFILE=generic` tries another one.
# One thread in avx2 and generic: more threads than cores (3 on a 2-core runner) made an
# OpenMP-parallel notebook many times slower, so thread counts above the cores are checked apart
# (native3: this CPU's kernels, 3 threads).
PROFILE_avx2    := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
                   OPENBLAS_CORETYPE=Haswell OMP_NUM_THREADS=1
PROFILE_generic := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
                   OPENBLAS_CORETYPE=Prescott OMP_NUM_THREADS=1
PROFILE_native3 := OMP_NUM_THREADS=3
PROFILE ?= avx2
PROFILE_ENV = $(if $(PROFILE_$(PROFILE)),$(PROFILE_$(PROFILE)),$(error unknown PROFILE=$(PROFILE): avx2, generic or native3))

.PHONY: book catalogues test test-fast nbval execute run check-html lint format clean

# (Re)install when the package's requirements change; the stamp records the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $@

## make book: build both editions with -W: English into _build/html (open _build/html/index.html),
##   Chinese into _build/html/zh_CN; one edition: make book EDITIONS=zh_CN
EDITIONS ?= en zh_CN
book: $(STAMP)
	for language in $(EDITIONS); do $(BIN)/python book/_ext/editions.py $$language || exit 1; done

## make catalogues: after an English edit, update the Chinese catalogues locales/zh_CN (new
##   messages empty, changed ones fuzzy), then translate them (CONTRIBUTING.md, "Translating")
catalogues: $(STAMP)
	$(BIN)/python book/_ext/editions.py en --builder gettext
	$(BIN)/sphinx-intl update --pot-dir _build/gettext --language zh_CN --locale-dir locales

## make test: lint, unit tests, every notebook under nbval, and the book build with -W,
##   all under the CPU profile PROFILE (default avx2), not the machine's own
test: $(STAMP) lint
	env $(PROFILE_ENV) $(BIN)/python -m pytest

## make test-fast: lint and the unit tests, no notebooks and no book build (under 2 minutes)
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest tests -m "not slow"

## make nbval: re-execute notebooks under nbval with the CPU profile PROFILE (default avx2)
##   (all of them, or NOTEBOOKS="book/01-logistic-regression/breast-cancer.ipynb")
nbval: $(STAMP)
	env $(PROFILE_ENV) $(BIN)/python -m pytest -p no:cacheprovider $(NOTEBOOKS)

## make execute: re-execute notebooks in place so their stored outputs come from the code
##   (all of them, or NOTEBOOKS="book/01-logistic-regression/breast-cancer.ipynb")
execute: $(STAMP)
	$(BIN)/mlnotes execute $(NOTEBOOKS)

## make run: execute copies of the notebooks with papermill under a preset and print a summary
##   (make run PRESET=full ARGS="7 --device cuda"); copies and report.md go to runs/PRESET
PRESET ?= ci
run: $(STAMP)
	$(BIN)/mlnotes run --preset $(PRESET) $(ARGS)

## make check-html: open every page of _build/html in headless Chromium (maths, images,
##   navigation, console errors) and save _build/screenshot.png; run `make book` first
check-html: $(STAMP)
	$(BIN)/python tests/html_check.py _build/html --screenshot _build/screenshot.png

lint: $(STAMP)
	$(BIN)/ruff check mlnotes tests book benchmarks conftest.py
	$(BIN)/ruff format --check mlnotes tests book/_ext benchmarks conftest.py

format: $(STAMP)
	$(BIN)/ruff format mlnotes tests book/_ext benchmarks conftest.py
	$(BIN)/ruff check --fix mlnotes tests book benchmarks conftest.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
