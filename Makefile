# Two entry points for a newcomer: `make repl` (the main job) and `make test`.
# Each creates .venv and installs what it needs. torch is pinned first so pip
# never resolves a multi-GB CUDA build on a CPU-only machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.13.0

.PHONY: install install-dev repl test test-editors lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

repl: install
	$(BIN)/bashcoder-repl

lint: install-dev
	$(BIN)/ruff check bashcoder tests bench
	$(BIN)/ruff format --check bashcoder tests bench

test: install-dev
	bash scripts/test-deps.sh
	$(BIN)/ruff check bashcoder tests bench
	$(BIN)/python -m pytest -q -m "not editors" $(PYTEST_ARGS)

# Real editors (code-server in Chromium, Neovim in tmux, Emacs with eglot) against the real
# server: the first run installs them into ~/.cache/bashcoder/editors, later runs reuse it.
test-editors: install-dev
	PY=$(BIN)/python bash scripts/install-editors.sh
	$(BIN)/python -m pytest -q -m editors tests/clients $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/generate.py

clean:
	rm -rf $(VENV) build *.egg-info
