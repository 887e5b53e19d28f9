# Entry points for people and CI. Everything runs in .venv, made on first use.
#
#   make generate   validate every spec and render generated/docker_engine_v1_NN/
#   make test       install the test daemons and run the whole test suite
#   make dist       build wheels of the runtime and every version package into dist/
#   make bench      run the benchmarks in bench/
#
# SPECS_FROM names where spec files come from: a folder of v1.NN.yaml files or a URL.
# It defaults to ../shared/engine-api-specs when that folder exists, else upstream.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SPECS_FROM ?= $(wildcard ../shared/engine-api-specs)
export SPECS_FROM

.PHONY: setup engines generate validate test typecheck format-check dist bench clean

$(VENV)/.installed: pyproject.toml runtime/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -e ./runtime
	touch $@

setup: $(VENV)/.installed

engines:
	bash scripts/install-engines.sh

validate: setup
	$(PY) -m generator validate

generate: setup
	$(PY) -m generator generate $(if $(FORCE),--force)

test: setup engines generate
	$(PY) -m pytest $(PYTEST_ARGS)

# mypy --strict over the runtime and every generated package.
typecheck: generate
	$(PY) -m mypy --strict runtime/src/docker_engine
	$(PY) -m mypy --strict $(wildcard generated/docker_engine_v1_*/docker_engine_v1_*)

# generated/ is git-ignored and black skips ignored folders, so the files are named one by one.
format-check: generate
	find -L generated -name '*.py' -print0 | xargs -0 $(PY) -m black --check --quiet

dist: generate
	rm -rf dist
	$(PY) -m build --wheel --outdir dist runtime
	for package in generated/docker_engine_v1_*/; do \
		$(PY) -m build --wheel --no-isolation --outdir dist "$$package" || exit 1; \
	done

bench: setup engines generate
	$(PY) bench/run_all.py

clean:
	rm -rf generated .generated dist .cache/format-cache.pickle
