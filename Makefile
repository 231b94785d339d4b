# The two commands of the README: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/diplograph build seeds --out exports

test: $(STAMP)
	$(BIN)/ruff check kg tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check kg tests

clean:
	rm -rf $(VENV) exports/*.ttl exports/*.html exports/store
