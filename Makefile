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
# `make lab` works in a copy of the course, $(WORKSPACE)/ (git-ignored): a learner's edits are never overwritten.
# WORKSPACE=. works on the repository's own notebooks (for course authors).
WORKSPACE ?= workspace
SITE ?= site
# Offline: WHEELHOUSE=path installs from a folder made by `make wheelhouse` (no package index is contacted).
WHEELHOUSE ?=
WHEELHOUSE_DIR ?= wheelhouse
PIP_FROM := $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))
TEST_PATHS := tests $(wildcard notebooks solutions exercises)

.PHONY: lab test env clean lint site wheelhouse chromium

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_FROM) --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_FROM) $(TORCH_PIP_ARGS) "$(TORCH)"
	$(BIN)/python -m pip install --quiet $(PIP_FROM) -e ".[course,test]"
	touch $@

# Copies notebooks/ and exercises/ into $(WORKSPACE)/ (never overwriting a file there), then opens
# $(WORKSPACE)/notebooks/00_welcome.ipynb in JupyterLab with $(JUPYTER_ARGS).
lab: env
	$(BIN)/adamlab lab $(WORKSPACE) $(JUPYTER_ARGS)

# The fused kernel's tests also need triton (the `gpu` extra), which the course itself does not.
$(VENV)/.installed-gpu: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet $(PIP_FROM) -e ".[gpu]"
	touch $@

# pytest over the library's tests and, under nbval, every notebook (cells of one notebook stay on one worker).
# Exit code 5 (nothing collected, e.g. a -k selection that matches nothing) is reported, not failed.
# The browser test (tests/test_browser.py) drives Debian's Chromium, /usr/bin/chromium: installed here when it is
# missing and we are root with apt-get; otherwise (or offline) the test is skipped, saying why. Playwright never
# downloads a browser.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for tests/test_browser.py"; \
		( apt-get install -y -qq chromium || ( apt-get update -qq && apt-get install -y -qq chromium ) ) \
			>/dev/null 2>&1 || echo "chromium could not be installed: tests/test_browser.py will be skipped"; \
	fi

test: env $(VENV)/.installed-gpu chromium
	@rc=0; MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax --nbval-current-env \
		$(TEST_PATHS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5)"; exit 0; fi; exit $$rc

# Every notebook executed and rendered to static HTML in $(SITE)/ (open $(SITE)/index.html). MathJax is bundled
# when jupyter-server-mathjax can be installed, so the pages read offline.
site: env
	@$(BIN)/python -m pip install --quiet $(PIP_FROM) jupyter-server-mathjax 2>/dev/null || \
		echo "jupyter-server-mathjax not installed: the pages will load MathJax from the web"
	$(BIN)/adamlab site --out $(SITE) --jobs $(JOBS)

# Everything the two commands install, downloaded into $(WHEELHOUSE_DIR)/ for a room without network (wheels
# for this machine's OS and Python). Carry it, then `make lab WHEELHOUSE=/path/to/wheelhouse`.
wheelhouse:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE_DIR) pip "setuptools>=77" jupyter-server-mathjax
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE_DIR) $(TORCH_PIP_ARGS) "$(TORCH)"
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE_DIR) --find-links $(WHEELHOUSE_DIR) "$(TORCH)" \
		".[course,test,gpu]"
	@du -sh $(WHEELHOUSE_DIR)

lint: env
	$(BIN)/ruff check adamlab tests

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
