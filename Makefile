# Every target builds the virtualenv it needs, so each works on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?= prod

.PHONY: venv venv-interpreter test check plan lint-rules bench clean deploy-venv lock stack-init sample sample-report

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

## bench: every benchmark, each printing ratios against its anchor; fails naming each one that misses its target
bench: venv
	@failed=""; for b in bench/*.py; do $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "make bench: missed a target:$$failed" >&2; exit 1; fi

## sample: regenerate samples/day.ndjson.gz, the generated day of traffic pull requests are replayed on (fixed seed)
sample: venv
	$(BIN)/python -m logmon.sampleday --out samples/day.ndjson.gz

## sample-report: replay the sample day with the rules into replay.html (open it in a browser)
sample-report: venv
	gunzip -c samples/day.ndjson.gz | $(BIN)/logmon replay - --html replay.html

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info paylog/src/*.egg-info

# --- deploys: the hashed lock, and the stack bootstrap (docs/ci.md) ---------------------------------------------
LOCK := requirements/deploy.lock

## deploy-venv: the program's runtime dependencies only, exactly as locked (hashes checked), no dev tools
deploy-venv: $(VENV)/.deployed

$(VENV)/.deployed: $(LOCK) pyproject.toml paylog/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --no-index -e ./paylog -e .
	touch $@

## lock: re-resolve the lock from pyproject.toml (keeping pins that still fit); UPGRADE=1 moves every pin
lock: venv
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --quiet --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple \
		--no-emit-package paylog --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) --output-file $(LOCK)

## stack-init: create a stack in the backend once (STACK=dev|staging|prod), see docs/ci.md
stack-init: venv
	$(if $(filter command line environment,$(origin STACK)),,$(error name the stack: make stack-init STACK=dev|staging|prod))
	$(BIN)/logmon stack init --stack $(STACK)
