# Every target builds the virtualenv it needs, so each works on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?= prod

.PHONY: venv venv-interpreter test check plan lint-rules bench clean

# The interpreter's identity; a venv whose python reports another one was built by a different interpreter.
IDENTITY := import sys; print(sys.version)

venv: venv-interpreter
	@$(MAKE) --no-print-directory $(VENV)/.installed

## venv-interpreter: refuse an unsupported $(PYTHON); drop a $(VENV) that another interpreter built
venv-interpreter:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "make: '$(PYTHON)' is not Python 3.11 or newer, which logmon needs." >&2; \
	  echo "      Run again with a supported one, e.g. 'make PYTHON=python3.12'; $(VENV) is rebuilt with it." >&2; \
	  exit 1; }
	@if [ -e $(VENV) ] && [ "$$($(BIN)/python -c '$(IDENTITY)' 2>/dev/null)" != "$$($(PYTHON) -c '$(IDENTITY)')" ]; then \
	  echo "make: $(VENV) was built by another Python (or half-built); recreating it with $(PYTHON)" >&2; \
	  rm -rf $(VENV); fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## test: the whole suite (the README's test command)
test: venv
	$(BIN)/python -m pytest -q

## check: ruff, mypy, the rule lint, and the rule tests with coverage
check: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/logmon lint
	$(BIN)/logmon test --coverage

## plan: the main job, the offline plan of the prod stack (STACK=dev|staging|prod)
plan: venv
	$(BIN)/logmon plan --stack $(STACK)

lint-rules: venv
	$(BIN)/logmon lint

## bench: every benchmark, each printing ratios against its anchor; fails naming each one that misses its target
bench: venv
	@failed=""; for b in bench/*.py; do $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "make bench: missed a target:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
