# Every target sets itself up: a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python example_project/manage.py

.PHONY: help install demo test lint servers bench clean

help:
	@echo "make demo   - run the example site on the demo catalogue (PORT=$(PORT))"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff check, format check and mypy --strict"
	@echo "make bench  - run the benchmarks"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	touch $@

install: $(VENV)/.installed

# A failed refresh (OCCASION_DEMO_OUTAGE=1, say) leaves the cache as it was,
# and the site is served from it all the same.
demo: install
	$(MANAGE) check
	-$(MANAGE) occasion_refresh --time-slots
	@echo "Serving the example site on http://127.0.0.1:$(PORT)/"
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Redis and Memcached run the cache tests on real servers. As root with
# apt-get (CI, containers) they are installed when missing; elsewhere the
# tests that need them are skipped with a reason unless
# OCCASION_TEST_REQUIRE_SERVERS=1.
servers:
	@if ! command -v redis-server >/dev/null || ! command -v memcached >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server memcached >/dev/null; \
		else \
			echo "redis-server or memcached not found: their tests will be skipped"; \
		fi; \
	fi

test: install servers
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy django_occasion

bench: install servers
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .coverage example_project/.cache example_project/db.sqlite3
