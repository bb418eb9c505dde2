# orderflow: `make venv`, `make run`, `make test`. Needs only Python 3.11+ (PYTHON=...).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when a package definition or the dev requirements change.
STAMP := $(VENV)/.orderflow-installed

SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
PACKAGES := libs/schemas libs/runtime libs/rules $(SERVICES) deploy/devstack
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

# Every third-party package at the version in the lock: a fresh install gets what the tests saw.
LOCK := constraints.txt
# The lock's own tool, from PyPI into the venv (also pinned in requirements-dev.txt).
UV := uv==0.13.8

.PHONY: venv run test lock browser

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One pip call for everything, so that local packages satisfy each other's dependencies; every
# version comes from the lock, and a changed lock re-installs.
$(STAMP): $(BIN)/python requirements-dev.txt $(PYPROJECTS) $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) \
		-r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	touch $@

# Re-resolve every package's ranges (pyproject.toml files, requirements-dev.txt) into the lock,
# on purpose: after adding or changing a dependency, or to take newer versions. Then `make venv`.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(UV)"
	{ printf -- '-e ./%s\n' $(PACKAGES); cat requirements-dev.txt; } | \
		$(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
		--custom-compile-command "make lock" \
		$(foreach p,$(PACKAGES),--no-emit-package orderflow-$(notdir $(p))) - -o $(LOCK)

# The whole platform in the foreground; Ctrl+C stops it. See orderflow_devstack/run.py.
run: venv
	exec $(BIN)/python -m orderflow_devstack.run

# The console's browser tests drive Debian's Chromium (Playwright cannot download a browser
# here); installed when the machine lets us (root and apt-get), else they are skipped, and this
# says so.
browser:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing Debian's chromium for the console's browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
		echo "!! chromium could not be installed: the console's browser tests will be skipped"; \
	else echo "!! no chromium, and installing it needs root and apt-get: the console's" \
		"browser tests will be skipped"; fi

# Every check runs even when an earlier one fails, so one run shows every problem.
test: venv browser
	@status=0; \
	echo "== ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "== mypy"; $(BIN)/mypy || status=1; \
	echo "== pytest"; $(BIN)/python -m pytest || status=1; \
	exit $$status
