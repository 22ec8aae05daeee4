# Agora: every target creates the virtual environment and installs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/agora serve

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check broker adapters data_models tests conformance_tests bench
	$(BIN)/mypy

bench: $(STAMP)
	command -v wrk >/dev/null 2>&1 || (apt-get install -y -q wrk >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1)) || echo "wrk not available: the Python load generator will be used"
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.run --server-cpus 0,1 --scenarios batch,update --output bench/results/two-cpus.md
	$(BIN)/python -m bench.notify
	$(BIN)/python -m bench.iot_agent
	$(BIN)/python -m bench.validation

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
