# orderflow: `make venv`, `make run`, `make test`. Needs only Python 3.11+ (PYTHON=...).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when a package definition or the dev requirements change.
STAMP := $(VENV)/.orderflow-installed

SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
PACKAGES := libs/schemas libs/runtime $(SERVICES) deploy/devstack
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: venv run test

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One pip call for everything, so that local packages satisfy each other's dependencies.
$(STAMP): $(BIN)/python requirements-dev.txt $(PYPROJECTS)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	touch $@

# The whole platform in the foreground; Ctrl+C stops it. See orderflow_devstack/run.py.
run: venv
	exec $(BIN)/python -m orderflow_devstack.run

# Every check runs even when an earlier one fails, so one run shows every problem.
test: venv
	@status=0; \
	echo "== ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "== mypy"; $(BIN)/mypy || status=1; \
	echo "== pytest"; $(BIN)/python -m pytest || status=1; \
	exit $$status
