# Two commands for a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A laptop runs on SQLite with eager Celery; these fixed development values are refused
# unless SANPO_ALLOW_INSECURE_DEFAULTS is set, which production never does.
export SANPO_ALLOW_INSECURE_DEFAULTS ?= true
DEV_ENV := DEBUG=$${DEBUG:-true} SANPO_WEBHOOK_ALLOW_LOOPBACK=$${SANPO_WEBHOOK_ALLOW_LOOPBACK:-true}

.PHONY: run test lint typecheck check bench fuzz fuzz-long load load-short messages messages-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev,fuzz,load]'
	touch $(STAMP)

# The demo webhook receiver (127.0.0.1:8001) and the retry loop (no broker, so nothing else
# makes a failed delivery's next attempt) run in the background while the seeds and runserver
# run, and stop with them. The seeds log warnings only, so the keys they print stay readable.
SEED_ENV := $(DEV_ENV) LOG_LEVEL=$${SEED_LOG_LEVEL:-WARNING}

run: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py demo_webhook_receiver --port 8001 & receiver=$$!; \
	$(DEV_ENV) $(BIN)/python manage.py deliver_webhooks --every 5 & retries=$$!; \
	trap 'kill $$receiver $$retries 2>/dev/null' EXIT INT TERM; \
	$(SEED_ENV) $(BIN)/python manage.py seed_demo \
	&& $(SEED_ENV) $(BIN)/python manage.py seed_demo_consents \
	&& $(SEED_ENV) $(BIN)/python manage.py seed_demo_alliance --receiver http://127.0.0.1:8001 \
	&& $(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000 --noreload

# The suite runs in one process per core (pytest-xdist, at most 8: each takes two of Redis's 16
# databases, tests/xdist_workers.py); TEST_WORKERS=4 sets the number, TEST_WORKERS=0 runs it in
# this process (for --pdb). Never --dist worksteal: a worker must run the tests in pytest-django's
# order, transactional tests after the others.
TEST_WORKERS ?= auto

test: $(STAMP)
	SANPO_WEBHOOK_ALLOW_LOOPBACK=true SANPO_BEHIND_TLS=false \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 8 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy .

# Benchmarks print figures against a baseline measured in the same run; they are not tests.
# The coin ledger's balance read runs on a wallet of 10M entries (about 5 minutes to load on
# 2 cores); BENCH_HISTORY=1000000 makes a quicker run. Settlement settles a month of 10M
# entries (BENCH_SETTLEMENT_ENTRIES=1000000 makes a quicker run). Referrals compute the funnel
# over 10M clicks and 1M conversions (BENCH_REFERRAL_CLICKS=1000000 makes a quicker run, with a
# tenth as many conversions). Campaigns draw 50,000 of 1M members and aggregate their answers
# (BENCH_CAMPAIGN_MEMBERS=100000 makes a quicker run).
# Metrics refresh the rollups of a year of 10M entries and 1M members and time the API
# (BENCH_METRICS_ENTRIES=1000000 makes a quicker run, 100k members).
# Throwaway databases of their own: the development secrets and the demo's loopback receiver
# (bench_referrals seeds the demo alliance), but DEBUG off, as in production.
BENCH_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sanpo} \
	SANPO_ALLOW_INSECURE_DEFAULTS=$${SANPO_ALLOW_INSECURE_DEFAULTS:-true} \
	SANPO_WEBHOOK_ALLOW_LOOPBACK=$${SANPO_WEBHOOK_ALLOW_LOOPBACK:-true}

bench: $(STAMP)
	$(BENCH_ENV) $(BIN)/python manage.py bench_member_import $(BENCH_ARGS)
	$(BENCH_ENV) $(BIN)/python manage.py bench_consent_check
	$(BENCH_ENV) $(BIN)/python manage.py bench_overlap
	$(BENCH_ENV) $(BIN)/python manage.py bench_coin_ledger --history $${BENCH_HISTORY:-10000000}
	$(BENCH_ENV) $(BIN)/python manage.py bench_settlement \
		--entries $${BENCH_SETTLEMENT_ENTRIES:-10000000}
	$(BENCH_ENV) $(BIN)/python manage.py bench_referrals \
		--clicks $${BENCH_REFERRAL_CLICKS:-10000000} \
		--conversions $$(( $${BENCH_REFERRAL_CLICKS:-10000000} / 10 ))
	$(BENCH_ENV) $(BIN)/python manage.py bench_campaigns \
		--members $${BENCH_CAMPAIGN_MEMBERS:-1000000}
	$(BENCH_ENV) $(BIN)/python manage.py bench_metrics --entries $${BENCH_METRICS_ENTRIES:-10000000}

# Schemathesis against gunicorn on PostgreSQL with the demo data, as the host and as a brand
# (README, "Fuzzing"). fuzz is the CI budget; fuzz-long spends more time per key.
fuzz: $(STAMP)
	tests/fuzz/run.sh

fuzz-long: $(STAMP)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-1000} FUZZ_MAX_TIME=$${FUZZ_MAX_TIME:-1800} tests/fuzz/run.sh

# Locust's mix against two gunicorn instances (2 workers each, the users split between them),
# two Celery workers split by kind (LOAD_WORKER_QUEUES) and beat on one PostgreSQL database,
# then the ledger and consent-chain verifications (README, "Load"). load is the long run
# (LOAD_TIME, 10 minutes by default); load-short is CI's.
load: $(STAMP)
	LOAD_TIME=$${LOAD_TIME:-10m} tests/load/run.sh

load-short: $(STAMP)
	LOAD_TIME=$${LOAD_TIME:-20s} tests/load/run.sh

# Translations (README, "Languages"): each app keeps its Japanese catalogue in
# <app>/locale/ja/LC_MESSAGES/django.po, config keeps the project-wide one; the compiled .mo
# files are committed, so `make run` needs no gettext tools. `messages` extracts and compiles;
# `messages-check` (CI) fails when a catalogue is out of date, a string is untranslated or fuzzy.
LOCALE_DIRS := config partners consent federation
MAKEMESSAGES := makemessages --locale ja --add-location file --no-obsolete \
	--ignore 'migrations/*' --ignore 'management/*'

messages: $(STAMP)
	for dir in $(LOCALE_DIRS); do \
		mkdir -p $$dir/locale && (cd $$dir && ../$(BIN)/python ../manage.py $(MAKEMESSAGES)) || exit 1; \
	done
	$(BIN)/python manage.py compilemessages --locale ja --ignore '.venv/*'

messages-check: messages
	@git diff --exit-code -I '^"POT-Creation-Date:' -- '*/locale/*' \
		|| { echo "Catalogues out of date: run make messages, translate, commit." >&2; exit 1; }
	@test -z "$$(git status --porcelain -- '*/locale/*')" \
		|| { git status --short -- '*/locale/*'; echo "New catalogues: commit them." >&2; exit 1; }
	@for po in */locale/ja/LC_MESSAGES/*.po; do \
		[ -e "$$po" ] || continue; \
		left=$$(msgattrib --only-fuzzy --no-wrap "$$po"; msgattrib --untranslated --no-wrap "$$po"); \
		if [ -n "$$left" ]; then echo "$$po: untranslated or fuzzy:" >&2; echo "$$left" | grep '^msgid' >&2; exit 1; fi; \
	done

check: lint typecheck messages-check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(MAKE) test

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
