# RNN Lab: set-up, tests and the book.  `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
# Records that .venv holds what pyproject.toml and the constraints ask for.
STAMP := $(VENV)/.installed

# Quiet TensorFlow and reproducible hashing, for every command below. MPLBACKEND stays unset:
# Jupyter kernels then use the inline backend, which is what puts the figures into the pages
# (with MPLBACKEND=Agg, plt.show() draws nothing and the book silently loses every figure).
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
unexport MPLBACKEND
# One BLAS thread: the scratch cells multiply small matrices once per time step, where
# OpenBLAS's threads cost more than they save, and on a busy 2-core machine spinning threads
# made the scratch LSTM and GRU 60x slower. `make bench` lifts this to compare fairly.
export OPENBLAS_NUM_THREADS := 1

NOTEBOOKS = $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | sort)
# Seconds per cell, as execute.timeout in _config.yml.
CELL_TIMEOUT := 120
JB_FLAGS := -W -n --keep-going
PIP_FLAGS := $(if $(CI),--progress-bar off)
# pytest-xdist workers for the unit tests and for nbval (one notebook per worker at a time; each
# notebook is single-threaded, so two workers use both cores of the 2-core machine CI has).
JOBS ?= 2
# Where nbval keeps the notebooks it executed, for the book build to read (see `test`).
EXECUTED := _build/executed
JUPYTER_CACHE := _build/.jupyter_cache
# JupyterLab refuses to start as root unless told; CI containers and some laptops run as root.
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help venv test lint lab book book-fast pdf _cache_config _book strip bench clean glossary

help:
	@echo "make venv       create .venv and install rnnlab with pinned dependencies"
	@echo "make test       lint, unit tests, nbval over book/, the book build, the browser check"
	@echo "make lint       ruff check and mypy (configured in pyproject.toml)"
	@echo "make lab        JupyterLab on book/, with the kernel and environment the build uses"
	@echo "make book       build the book into _build/html (every notebook re-run, warnings fail)"
	@echo "make book-fast  the same, re-running only notebooks whose code changed (jupyter-cache)"
	@echo "make pdf        the whole book as one PDF, _build/rnn-lab.pdf (after book-fast)"
	@echo "make glossary   write book/glossary.md from book/glossary.yml"
	@echo "make strip      remove outputs from every notebook under book/ (what git should hold)"
	@echo "make bench      run every benchmark in benchmarks/ (ratios within one run)"
	@echo "make clean      remove build outputs and caches (keeps .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(CONSTRAINTS) -e ".[all]"
	$(BIN)/python -m pip check
	@# The venv's default kernel carries the environment variables the book is built with, so
	@# JupyterLab (`make lab`), nbval and the book build run every notebook the same way.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnnlab)" \
	    --env OPENBLAS_NUM_THREADS 1 --env PYTHONHASHSEED 0 --env TF_CPP_MIN_LOG_LEVEL 3
	@touch $@

# Every notebook is executed once, under nbval; the book build then reads those outputs from
# jupyter-cache (`execute_notebooks: cache`, filled by scripts/cache_executed.py) instead of
# executing everything a second time. The build is still a fresh `-W -n` build of every page.
test: venv
	@# --keep-id: Jupyter's cell ids are stable and harmless; outputs and counts must go.
	@echo "== notebooks stored without outputs (nbstripout --verify)"
	@if [ -n "$(NOTEBOOKS)" ]; then \
	    $(BIN)/nbstripout --keep-id --verify $(NOTEBOOKS) \
	        || { echo "Notebooks above carry outputs: run 'make strip'."; exit 1; }; \
	else echo "no notebooks under book/ yet: skipped"; fi
	@$(MAKE) --no-print-directory lint
	@echo "== unit tests ($(JOBS) workers)"
	$(BIN)/pytest -n $(JOBS) tests
	@echo "== every notebook under nbval ($(JOBS) workers; the executed notebooks are kept)"
	@rm -rf $(EXECUTED) $(JUPYTER_CACHE)
	$(BIN)/pytest -p no:cacheprovider -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=$(CELL_TIMEOUT) --nbval-keep $(EXECUTED) book
	$(BIN)/python scripts/cache_executed.py $(EXECUTED) --cache $(JUPYTER_CACHE)
	@echo "== the book (every page re-read, warnings fail; outputs from the nbval run above)"
	@$(MAKE) --no-print-directory _cache_config
	@$(MAKE) --no-print-directory _book JB_FRESH=--all JB_CONFIG="--config _build/_config.cache.yml"
	@echo "== the PDF edition (the same Sphinx environment and cache: no notebook runs again)"
	$(BIN)/python scripts/make_pdf.py --config _build/_config.cache.yml --no-check
	@echo "== the built book and the PDF in headless Chromium"
	$(BIN)/python scripts/check_in_browser.py _build/html --screenshots _build/screenshots --pdf _build/rnn-lab.pdf

lint: venv
	@echo "== lint (ruff check, mypy)"
	$(BIN)/ruff check .
	$(BIN)/mypy

# The environment exported above (one BLAS thread, quiet TensorFlow, fixed hashing) reaches the
# kernels; the kernel spec installed by `make venv` sets the same for any other way of starting.
lab: venv
	$(BIN)/jupyter lab --ServerApp.root_dir=book $(LAB_ROOT_FLAG)

# --all: a fresh Sphinx environment, so every page is re-read, every notebook re-run and every
# warning reported again (an incremental build stays silent about pages it does not re-read).
book: venv
	@$(MAKE) --no-print-directory _book JB_FRESH=--all

# The singlehtml build shares _build/.doctrees and the jupyter-cache with the html build of
# `book-fast`, so only notebooks whose code changed since are executed.
pdf: book-fast
	$(BIN)/python scripts/make_pdf.py --config _build/_config.cache.yml

# jupyter-book 1.x has no command-line switch or variable for the execution mode, so build
# from a copy of _config.yml with `execute_notebooks: cache` (kept in _build/.jupyter_cache).
book-fast: venv
	@$(MAKE) --no-print-directory _cache_config
	@$(MAKE) --no-print-directory _book JB_CONFIG="--config _build/_config.cache.yml"

_cache_config:
	@mkdir -p _build
	@# Paths in local_extensions are relative to the config file: the copy gets them absolute.
	@$(BIN)/python -c 'import os, yaml; c = yaml.safe_load(open("_config.yml")); \
	    c["execute"]["execute_notebooks"] = "cache"; c["execute"]["cache"] = "$(CURDIR)/$(JUPYTER_CACHE)"; \
	    ext = c["sphinx"].get("local_extensions") or {}; \
	    c["sphinx"]["local_extensions"] = {k: os.path.abspath(v) for k, v in ext.items()}; \
	    yaml.safe_dump(c, open("_build/_config.cache.yml", "w"), sort_keys=False, allow_unicode=True)'

# myst-nb logs "<path>: Executed notebook in <s> seconds" for each notebook it runs.
NOTEBOOK_TIMES = sed -nE 's|^(.+): Executed notebook in ([0-9.]+) seconds.*|\1 \2|p' \
	_build/book-build.log | sed 's|^$(CURDIR)/||' | awk \
	'NR == 1 { print "== notebook execution times (book build)" } \
	{ printf "%-44s — %7.1f s\n", $$1, $$2; total += $$2 } \
	END { if (NR) printf "%-44s — %7.1f s\n", "total", total }'

# The build itself; on failure, print every execution report (tracebacks of failed notebooks).
_book:
	@mkdir -p _build
	@rm -rf _build/html/reports
	@status=0; \
	$(BIN)/jupyter-book build . $(JB_FLAGS) $(JB_FRESH) $(JB_CONFIG) 2>&1 | tee _build/book-build.log || status=$$?; \
	$(NOTEBOOK_TIMES); \
	if [ $$status -ne 0 ]; then \
	    for log in $$(find _build/html/reports -name '*.log' 2>/dev/null | sort); do \
	        echo "==== $$log"; cat "$$log"; done; \
	    echo "Book build failed (exit $$status)."; exit $$status; \
	fi; \
	$(BIN)/python scripts/check_built_book.py _build/html; \
	echo "Book: _build/html/index.html"

glossary: venv
	$(BIN)/python scripts/make_glossary.py

strip: venv
	@if [ -n "$(NOTEBOOKS)" ]; then $(BIN)/nbstripout --keep-id $(NOTEBOOKS); fi

# Each benchmark prints ratios measured within its own run (never a timed test).
bench: venv
	@for script in benchmarks/bench_*.py; do echo "== $$script"; \
	    env -u OPENBLAS_NUM_THREADS $(BIN)/python $$script; done

clean:
	rm -rf _build dist .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
