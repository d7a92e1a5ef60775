# Haven: `make run` serves the demo, `make test` runs the whole suite on SQLite and PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/haven
export HAVEN_DATA_DIR ?= $(CURDIR)/var

.PHONY: otp run test setup assets chromium softhsm postgres lint lock test-sqlite test-postgres bench clean

run: setup
	HAVEN_DEBUG=1 HAVEN_DEMO=1 $(BIN)/haven keys init --if-missing
	HAVEN_DEBUG=1 HAVEN_DEMO=1 HAVEN_LOCAL_WITNESS=1 $(BIN)/haven audit init-key --if-missing
	HAVEN_DEBUG=1 HAVEN_DEMO=1 $(BIN)/haven migrate --no-input -v 0
	HAVEN_DEBUG=1 HAVEN_DEMO=1 $(BIN)/haven collectstatic --no-input -v 0
	HAVEN_DEBUG=1 HAVEN_DEMO=1 $(BIN)/haven demo
	@echo "Serving Haven on http://127.0.0.1:8000, OsmAnd/Traccar receiver on :5055 (Ctrl-C to stop)"
	HAVEN_DEBUG=1 HAVEN_DEMO=1 HAVEN_LOCAL_WITNESS=1 HAVEN_DEMO_MAILBOX=1 HAVEN_EMAIL_PORT=2525 $(BIN)/haven up --web-bind 127.0.0.1:8000 --osmand-port 5055

otp:
	@HAVEN_DEBUG=1 HAVEN_DEMO=1 $(BIN)/haven otp $(ACCOUNT)

# Lint runs beside the SQLite suite (make holds each one's output until it ends): mypy is one
# process, and the suite leaves a core idle while its tests wait on subprocesses and browsers.
test: setup chromium softhsm postgres
	$(MAKE) --no-print-directory -j2 --output-sync=target lint test-sqlite
	$(MAKE) --no-print-directory test-postgres

setup: $(VENV)/.installed assets

# Installs exactly the versions (and hashes) in requirements-dev.lock, then Haven itself.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Haven needs Python 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# After changing dependencies in pyproject.toml: re-pin both lock files from PyPI (existing pins
# are kept where they still fit; add --upgrade-package NAME to move one).
LOCK_FLAGS := --quiet --strip-extras --generate-hashes --allow-unsafe --index-url https://pypi.org/simple --no-emit-index-url
lock: $(VENV)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed
	$(BIN)/python scripts/build_assets.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "Debian chromium could not be installed: apt-get install -y chromium" >&2; exit 1; }

# SoftHSM2 for the PKCS#11 KEK tests (tests/vault/test_kek_hsm.py make their own token).
softhsm:
	@command -v softhsm2-util >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null; }
	@command -v softhsm2-util >/dev/null 2>&1 || { echo "Debian softhsm2 could not be installed: apt-get install -y softhsm2" >&2; exit 1; }

postgres:
	@scripts/ensure_postgres.sh

lint:
	$(BIN)/ruff check src tests scripts $(wildcard bench)
	$(BIN)/mypy src
	PYTHONPATH=src $(BIN)/lint-imports

# --dist loadgroup: tests marked xdist_group("...") share one worker (and so one costly
# module fixture, such as a database migrated from zero); every other test goes where it fits.
# Three workers on two cores: a fifth of the suite's time is spent waiting (for Haven's own
# processes to start and act, for Chromium), which a third worker fills (SQLite: 292 s against
# 402 s with two).
PYTEST := $(BIN)/pytest -n 3 --dist loadgroup -p no:cacheprovider

test-sqlite:
	$(PYTEST)

test-postgres:
	HAVEN_DATABASE_URL=$(PG_URL) $(PYTEST)

# The quick configuration of every benchmark (a few minutes; not part of `make test`): each
# prints RESULT lines (goal, figure, same-run baseline, ratio). Databases haven_bench_quick_*
# on the PostgreSQL server are created and dropped by the benches; BENCH_PG=postgres://... for
# another server. A bench's full size: bench/NAME.py --help.
BENCH_PG ?= $(dir $(PG_URL))postgres
BENCH_PY := $(BIN)/python bench
bench: setup postgres
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BENCH_PY)/operations_rota.py --rounds 3
	$(BENCH_PY)/vault_fields.py --rows 20000 --lookups 200
	$(BENCH_PY)/vault_fields.py --rows 20000 --lookups 200 --postgres $(BENCH_PG) --database haven_bench_quick_vault
	$(BENCH_PY)/audit_verify.py --entries 20000
	$(BENCH_PY)/audit_verify.py --entries 50000 --postgres $(BENCH_PG) --database haven_bench_quick_verify
	$(BENCH_PY)/ledger_append.py --changes 500 --rounds 1
	$(BENCH_PY)/ledger_append.py --changes 500 --rounds 1 --postgres $(BENCH_PG) --database haven_bench_quick_ledger
	$(BENCH_PY)/risk_portfolio.py --cases 2000 --baseline 200 --requests 10
	$(BENCH_PY)/risk_portfolio.py --cases 2000 --baseline 200 --requests 10 --postgres $(BENCH_PG) --database haven_bench_quick_risk
	$(BENCH_PY)/oversight_statistics.py --complaints 500 --workforce 2000
	$(BENCH_PY)/alarm_paging.py --alarms 30
	$(BENCH_PY)/telemetry.py --messages 1000 --active 500 --workers 1 --clients 50 --listeners 1
	$(BENCH_PY)/telemetry.py --messages 2000 --clients 50 --only teltonika --postgres $(BENCH_PG) --database haven_bench_quick_telemetry
	$(BENCH_PY)/fence_churn.py --fences 30000 --seconds 10 --alarms 100
	$(BENCH_PY)/fence_churn.py --fences 30000 --seconds 10 --alarms 100 --postgres $(BENCH_PG) --database haven_bench_quick_fence_churn
	$(BENCH_PY)/casework.py --cases 500 --ledger 5000 --seconds 10 --rounds 1 --workers 2 --postgres $(BENCH_PG) --database haven_bench_quick_casework

clean:
	rm -rf $(VENV) node_modules var src/haven/web/static/vendor
