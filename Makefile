# The two commands of the README: `make up` (install, build, start everything) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/vite.config.ts web/tsconfig*.json -type f 2>/dev/null)

.PHONY: up test web schemas typecheck bench bench-nodered faults faults-cluster clean

up: $(VENV)/.installed web
	$(BIN)/automateos up

test: $(VENV)/.installed-test web
	cd web && npm test --silent
	$(BIN)/python -m pytest

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "AutomateOS needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

# The builder is rebuilt when it is missing or older than its sources.
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build --silent
	touch $@

# After changing a message model: the published JSON Schemas, then the web builder's types made from them.
schemas: $(VENV)/.installed web/node_modules/.package-lock.json
	$(BIN)/python -m schemas.jsonschema
	cd web && npm run gen:types --silent

# The broker's users and their permissions, generated from the one list of them (bus/permissions.py).
nats-auth.conf: bus/permissions.py bus/subjects.py | $(VENV)/.installed
	$(BIN)/python -c 'import sys; from bus.permissions import auth_config; sys.stdout.write(auth_config())' > $@

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/throughput.py

bench-nodered: $(VENV)/.installed
	$(BIN)/python bench/vs_nodered.py

# The fault suite (docs/RELIABILITY.md): 2,000 runs while every process is SIGKILLed in turn; on a 3-node cluster,
# killing the stream leader's node. `make test` runs a 300-run version.
faults: $(VENV)/.installed
	$(BIN)/python bench/faults.py --runs 2000

faults-cluster: $(VENV)/.installed
	$(BIN)/python bench/faults.py --runs 2000 --cluster 3

clean:
	rm -rf $(VENV) web/node_modules web/dist .pytest_cache .mypy_cache
