# The README's two commands: `make lab` and `make test`. Both build the same virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.13.0; the CPU build where the package index serves one. GPU users: see README.
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
JUPYTER_ARGS ?=
PYTEST_ARGS ?=
JOBS ?= 2
TEST_PATHS := tests $(wildcard notebooks solutions exercises)

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

# pytest over the library's tests and, under nbval, every notebook (cells of one notebook stay on one worker).
# Exit code 5 (nothing collected, e.g. a -k selection that matches nothing) is reported, not failed.
test: env
	@rc=0; MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax --nbval-current-env \
		$(TEST_PATHS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5)"; exit 0; fi; exit $$rc

lint: env
	$(BIN)/ruff check adamlab tests

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
