# Login with Miles & More — developer entry points.
# Every target creates or updates .venv itself; nothing has to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint bench bench-side-by-side bench-tools translations extract-messages browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# -q is an option of pybabel itself, not of compile; no catalogues yet means nothing to compile.
translations: $(STAMP)
	@if [ -d idp/translations ]; then $(BIN)/pybabel -q compile --use-fuzzy -d idp/translations; fi

# Debian's chromium drives the browser tests; Playwright's own download cannot be used.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; \
	fi

# One test process per core (TEST_PROCESSES=0 runs them in this one process).
TEST_PROCESSES ?= auto

test: $(STAMP) translations browser
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check idp consent_screens clients examples tests bench migrations

bench: $(STAMP) translations
	$(BIN)/python -m bench
	$(MAKE) bench-side-by-side

# Debian's wrk loads both providers, and Node runs the peer (oidc-provider, which
# `python -m bench.side_by_side` installs from the npm registry into bench/peer).
bench-tools:
	@missing=""; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

# This provider (mam-idp serve, 2 workers) and oidc-provider under wrk, in alternation.
bench-side-by-side: $(STAMP) translations bench-tools
	$(BIN)/python -m bench.side_by_side $(BENCH_ARGS)

demo: $(STAMP) translations
	$(BIN)/mam-idp demo

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext \
		--project="Login with Miles & More" --copyright-holder="Login with Miles & More" \
		-o idp/translations/messages.pot .
	$(BIN)/pybabel update -i idp/translations/messages.pot -d idp/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
