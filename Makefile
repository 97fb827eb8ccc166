# Two commands for a fresh machine (README): `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: serve test test-fast check lint index clean browser postgres office reliability load bench bench-1000

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev,bench]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

serve: $(STAMP)  ## set up, then start the web chat on http://127.0.0.1:7860 (offline answers)
	$(BIN)/procurebot serve

test: $(STAMP) browser postgres office  ## set up, then run the whole test suite
	$(BIN)/python -m pytest

# The unit tests alone: no shipped-corpus index, server, subprocess or browser (`slow` ones,
# marked in tests/conftest.py and by the tests themselves).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

# The browser test drives Debian's Chromium through its driver; installed once, when missing.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver \
	  || echo "make: could not install chromium; the browser test will be skipped" >&2; }

# The reviewer document (DOCX) is checked as LibreOffice lays it out in pages; installed once.
office:
	@command -v soffice >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui \
	  || echo "make: could not install LibreOffice; the DOCX page test will be skipped" >&2; }

# The PostgreSQL transcript tests start Debian's server themselves (as the postgres user, on
# 127.0.0.1 and a free port, in a temporary folder); installed once, when missing.
postgres:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql \
	  || echo "make: could not install postgresql; the PostgreSQL transcript tests will be skipped" >&2; }

# The bad-input, fault and load suites, then their table (README, "Reliability").
RELIABILITY_LOG := data/reliability.jsonl
reliability: $(STAMP) browser
	@mkdir -p data && rm -f $(RELIABILITY_LOG)
	PROCUREBOT_RELIABILITY_LOG=$(abspath $(RELIABILITY_LOG)) $(BIN)/python -m pytest -m reliability -q; \
	tests=$$?; \
	$(BIN)/python -m tests.load --users 20 --questions 10 --report $(RELIABILITY_LOG); \
	load=$$?; \
	$(BIN)/python -m tests.reliability $(RELIABILITY_LOG) > data/reliability.md; \
	report=$$?; \
	cat data/reliability.md; \
	exit $$(( tests || load || report ))

# The full load test alone: 20 people × 10 questions against a server it starts.
load: $(STAMP)
	$(BIN)/python -m tests.load --users 20 --questions 10

# Speed, memory and quality against plain baselines, and growth at 1×, 10× and 100× the corpus
# (README, "Performance"); about 6 minutes. bench-1000 adds the 1000× point (about 15 more).
bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-1000: $(STAMP)
	$(BIN)/python -m benchmarks --scales 1,10,100,1000

index: $(STAMP)
	$(BIN)/procurebot index

lint: $(STAMP)
	$(BIN)/ruff check index bot ui tests benchmarks
	$(BIN)/ruff format --check index bot ui tests benchmarks
	$(BIN)/mypy index bot ui benchmarks

check: lint test  ## lint, format, types and tests

clean:
	rm -rf $(VENV) data
