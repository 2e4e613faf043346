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

.PHONY: help venv test book book-fast strip bench clean glossary

help:
	@echo "make venv       create .venv and install rnnlab with pinned dependencies"
	@echo "make test       nbstripout check, pytest tests, nbval over book/, then the book build"
	@echo "make book       build the book into _build/html (every notebook re-run, warnings fail)"
	@echo "make book-fast  the same, re-running only notebooks whose code changed (jupyter-cache)"
	@echo "make glossary   write book/glossary.md from book/glossary.yml"
	@echo "make strip      remove outputs from every notebook under book/ (what git should hold)"
	@echo "make bench      run every benchmark in benchmarks/ (ratios within one run)"
	@echo "make clean      remove build outputs and caches (keeps .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(CONSTRAINTS) -e ".[all]"
	$(BIN)/python -m pip check
	@touch $@

test: venv
	@# --keep-id: Jupyter's cell ids are stable and harmless; outputs and counts must go.
	@echo "== notebooks stored without outputs (nbstripout --verify)"
	@if [ -n "$(NOTEBOOKS)" ]; then \
	    $(BIN)/nbstripout --keep-id --verify $(NOTEBOOKS) \
	        || { echo "Notebooks above carry outputs: run 'make strip'."; exit 1; }; \
	else echo "no notebooks under book/ yet: skipped"; fi
	@echo "== unit tests"
	$(BIN)/pytest tests
	@echo "== every notebook under nbval"
	@if [ -n "$(NOTEBOOKS)" ]; then \
	    $(BIN)/pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
	        --nbval-cell-timeout=$(CELL_TIMEOUT) book; \
	else echo "no notebooks under book/ yet: skipped"; fi
	@echo "== the book"
	@$(MAKE) --no-print-directory _book JB_FRESH=--all

# --all: a fresh Sphinx environment, so every page is re-read, every notebook re-run and every
# warning reported again (an incremental build stays silent about pages it does not re-read).
book: venv
	@$(MAKE) --no-print-directory _book JB_FRESH=--all

# jupyter-book 1.x has no command-line switch or variable for the execution mode, so build
# from a copy of _config.yml with `execute_notebooks: cache` (kept in _build/.jupyter_cache).
book-fast: venv
	@mkdir -p _build
	@$(BIN)/python -c 'import yaml; c = yaml.safe_load(open("_config.yml")); \
	    c["execute"]["execute_notebooks"] = "cache"; \
	    yaml.safe_dump(c, open("_build/_config.fast.yml", "w"), sort_keys=False)'
	@$(MAKE) --no-print-directory _book JB_CONFIG="--config _build/_config.fast.yml"

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
	rm -rf _build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
