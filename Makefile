# The README's two commands: `make lab` and `make test`. Both build the same virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.13.0; the CPU build where the package index serves one. GPU users: see README.
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
JUPYTER_ARGS ?=
PYTEST_ARGS ?=

.PHONY: lab test env clean lint

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $@

lab: env
	$(BIN)/jupyter lab notebooks/00_welcome.ipynb $(JUPYTER_ARGS)

test: env
	MPLBACKEND=Agg $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: env
	$(BIN)/ruff check adamlab tests

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
