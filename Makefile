# The single entry point for set-up, demo, tests, lint and benchmarks (CI calls these targets too).
#   make demo    a demo shop on http://127.0.0.1:8000/admin/ (SQLite under var/; PORT=8001 for another port)
#   make test    the whole suite (PYTEST_ARGS="-m smoke" or "-k name" to narrow it)

PYTHON3 ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed.stamp
PYTEST_ARGS ?=
BENCH_ARGS ?=
# Tests, lint and benchmarks need some SECRET_KEY; a real one from the environment wins.
TEST_SECRET_KEY := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key}

.PHONY: venv demo test lint bench constraints

venv: $(STAMP)

# Re-installs when pyproject.toml or constraints.txt is newer than the last install.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e '.[project,dev]'
	touch $@

var:
	mkdir -p var

# The demo's port (make demo PORT=8001); links in its emails (SITE_URL) follow it unless set.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
DEMO_ENV := DEBUG=true SITE_URL=$(SITE_URL)

demo: venv | var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py backorders_seed_demo
	@echo "Starting the server: open $(SITE_URL)/admin/ (Ctrl-C stops it)."
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: venv | var
	$(TEST_SECRET_KEY) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_SECRET_KEY) $(VENV)/bin/mypy backorders
	$(TEST_SECRET_KEY) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_SECRET_KEY) SHOPIFY_API_SECRET=$${SHOPIFY_API_SECRET:-lint-only-webhook-secret} $(PY) manage.py check

# Every bench/*.py script (modules starting with _ are shared helpers), with BENCH_ARGS.
bench: venv | var
	@set -e; for script in bench/*.py; do \
		case "$$(basename "$$script")" in _*) continue;; esac; \
		echo "== $$script $(BENCH_ARGS)"; \
		$(TEST_SECRET_KEY) $(PY) "$$script" $(BENCH_ARGS); \
	done

# Pin what the current venv holds (after changing dependencies in pyproject.toml: make venv, then this).
constraints: venv
	$(PY) -m pip freeze --exclude-editable | grep -viE '^django[-_]backorders([=@ ]|$$)' > constraints.txt
	touch $(STAMP)
