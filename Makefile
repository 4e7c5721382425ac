# Every target builds the virtualenv it needs, so each works on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?= prod

.PHONY: venv test check plan lint-rules bench clean

venv: $(VENV)/.installed

# paylog is its own distribution in ./paylog; naming both in one install lets it satisfy logmon's
# dependency on it from this checkout.
$(VENV)/.installed: pyproject.toml paylog/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./paylog -e '.[dev]'
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

## bench: every benchmark, each printing ratios against its anchor
bench: venv
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
