# Everything runs from a project-local virtualenv that these targets create.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint typecheck unit install redis-server clean

$(BIN)/billing-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/billing-bot

demo: install
	$(BIN)/billing-bot demo

lint: install
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .

typecheck: install
	$(BIN)/mypy

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
test: lint typecheck redis-server
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
