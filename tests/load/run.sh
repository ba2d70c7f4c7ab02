#!/usr/bin/env bash
# Load the API with locust (tests/load/locustfile.py) against two gunicorn instances (several
# workers each, on two loopback ports, the users split between them) and two Celery workers
# split by kind as on several hosts (one on deliveries and the short jobs, one on the ledger,
# imports and reports: README, "Running on several hosts"), plus beat, on one PostgreSQL database, a real broker and Redis, for a
# fixed time; then verify the coin ledger and the consent chains with the project's own
# commands. Any locust failure (a 5xx, or a status the mix does not expect), a 5xx in
# gunicorn's log, or a verification that fails makes this script exit non-zero.
#
#   tests/load/run.sh                    the CI version: LOAD_TIME=20s
#   LOAD_TIME=10m tests/load/run.sh      the long version (make load)
#
# It creates and drops its own database and stops everything it started. README, "Load". The
# database, Redis databases and ports can be moved (LOAD_DATABASE, LOAD_BROKER_URL,
# LOAD_REDIS_URL, LOAD_PORT, LOAD_PORT2, LOAD_HOOK_PORT) to run beside another copy.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-.venv/bin}
PG=${LOAD_PG:-postgres://postgres@127.0.0.1:5432}
DB=${LOAD_DATABASE:-sanpo_load}
PORT=${LOAD_PORT:-8501}
HOOK_PORT=${LOAD_HOOK_PORT:-$((PORT + 1))}
PORT2=${LOAD_PORT2:-$((PORT + 2))}
BROKER=${LOAD_BROKER_URL:-redis://127.0.0.1:6379/5}
REDIS=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/6}
TIME=${LOAD_TIME:-20s}
USERS=${LOAD_USERS:-12}
WEB_WORKERS=${LOAD_WEB_WORKERS:-2}  # per gunicorn instance
# One Celery worker per item, consuming its queues; together every queue of
# config.celery.QUEUES (LOAD_WORKER_QUEUES="webhooks,imports,ledger,reports,default
# webhooks,imports,ledger,reports,default" gives two workers on all of them).
read -r -a WORKER_QUEUES <<<"${LOAD_WORKER_QUEUES:-webhooks,default ledger,imports,reports}"
OUT=${LOAD_OUT:-var/load}

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.csv

# Production settings (DEBUG off, a real broker, tasks on Celery workers), except: plain http
# on loopback, the development secrets (throwaway data), webhook receivers on loopback (the
# demo receiver below), an API rate limit and an overlap budget the run cannot reach (both
# would otherwise turn most of the mix into 429 within seconds; they are tested elsewhere).
export DATABASE_URL="$PG/$DB" CELERY_BROKER_URL="$BROKER" REDIS_URL="$REDIS" DEBUG=false \
  SANPO_BEHIND_TLS=false SANPO_ALLOW_INSECURE_DEFAULTS=true SANPO_WEBHOOK_ALLOW_LOOPBACK=true \
  SANPO_API_RATE_LIMIT_PER_MINUTE=1000000 SANPO_OVERLAP_QUESTIONS_PER_MONTH=1000000 \
  ALLOWED_HOSTS=127.0.0.1,localhost SANPO_WEBHOOK_TIMEOUT_SECONDS=2 LOG_LEVEL=WARNING

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

started=$SECONDS
echo "== load: a fresh database $DB"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
redis-cli -u "$REDIS" flushdb >/dev/null
case "$BROKER" in redis://*) redis-cli -u "$BROKER" flushdb >/dev/null ;; esac
$BIN/python manage.py migrate --no-input -v0
echo "   $((SECONDS - started)) s: migrate"
$BIN/python manage.py seed_demo --members 300 >/dev/null
echo "   $((SECONDS - started)) s: seed_demo"
$BIN/python manage.py seed_demo_consents >/dev/null
echo "   $((SECONDS - started)) s: seed_demo_consents"
$BIN/python manage.py seed_demo_alliance --receiver "http://127.0.0.1:$HOOK_PORT" >/dev/null
echo "   $((SECONDS - started)) s: seed_demo_alliance"
HOST_KEY=$($BIN/python manage.py issue_api_key kirari --by manager --name "load host")
BRAND_KEY=$($BIN/python manage.py issue_api_key midori-fitness --by manager --name "load brand")

for port in "$PORT" "$PORT2" "$HOOK_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "Something already listens on 127.0.0.1:$port; set LOAD_PORT (and LOAD_PORT2)." >&2
    exit 1
  fi
done
echo "== load: receiver :$HOOK_PORT, gunicorn :$PORT and :$PORT2 ($WEB_WORKERS workers each)," \
  "${#WORKER_QUEUES[@]} Celery workers (-Q ${WORKER_QUEUES[*]}), beat"
$BIN/python manage.py demo_webhook_receiver --port "$HOOK_PORT" >"$OUT/receiver.log" 2>&1 &
pids+=($!)
for n in 1 2; do
  port=$PORT; [ "$n" = 2 ] && port=$PORT2
  $BIN/gunicorn config.wsgi --bind "127.0.0.1:$port" --workers "$WEB_WORKERS" --timeout 60 \
    --access-logfile - --error-logfile - >"$OUT/gunicorn$n.log" 2>&1 &
  pids+=($!)
done
n=0
for queues in "${WORKER_QUEUES[@]}"; do
  n=$((n + 1))
  $BIN/celery -A config worker --loglevel WARNING --concurrency 1 --hostname "load$n@%h" \
    -Q "$queues" >"$OUT/worker$n.log" 2>&1 &
  pids+=($!)
done
$BIN/celery -A config beat --loglevel WARNING --schedule "$OUT/beat-schedule" \
  >"$OUT/beat.log" 2>&1 &
pids+=($!)
for n in 1 2; do
  port=$PORT; [ "$n" = 2 ] && port=$PORT2
  up=""
  for _ in $(seq 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/" 2>/dev/null; then up=yes; break; fi
    sleep 0.5
  done
  if [ -z "$up" ]; then
    cat "$OUT/gunicorn$n.log" >&2
    echo "gunicorn did not answer on 127.0.0.1:$port within 30 s." >&2
    exit 1
  fi
done
echo "== load: set-up took $((SECONDS - started)) s; locust, $USERS users for $TIME"

status=0
SANPO_LOAD_HOST_KEY="$HOST_KEY" SANPO_LOAD_BRAND_KEY="$BRAND_KEY" SANPO_LOAD_OUT="$OUT" \
  SANPO_LOAD_HOSTS="http://127.0.0.1:$PORT,http://127.0.0.1:$PORT2" \
  $BIN/locust -f tests/load/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
    --users "$USERS" --spawn-rate "$USERS" --run-time "$TIME" --stop-timeout 10 \
    --csv "$OUT/load" --only-summary --loglevel WARNING 2>&1 | tee "$OUT/locust.log" || status=1

# Give the workers a moment with what the run queued last, then say what they did.
sleep 5
$BIN/python manage.py shell -v 0 -c '
from collections import Counter
from partners.models import WebhookDelivery
from partners.models.outbox import OutboxMessage
states = Counter(WebhookDelivery.objects.values_list("state", flat=True))
print("== load: webhook deliveries by state:", dict(states) or "none")
print("== load: outbox messages not yet sent:", OutboxMessage.objects.filter(sent_at=None).count())
' || status=1

echo "== load: verifying the coin ledger and the consent chains"
$BIN/python manage.py verify_coin_ledger || { echo "verify_coin_ledger failed." >&2; status=1; }
$BIN/python manage.py verify_consent_chains || { echo "verify_consent_chains failed." >&2; status=1; }

for n in 1 2; do
  echo "== load: gunicorn $n answered $(grep -cE '" [0-9]{3} ' "$OUT/gunicorn$n.log" || true) requests"
  fives=$(grep -cE '" 5[0-9]{2} ' "$OUT/gunicorn$n.log" || true)
  if [ "$fives" != 0 ]; then
    echo "Server $n answered 5xx $fives times; see $OUT/gunicorn$n.log." >&2
    status=1
  fi
done
echo "== load: scanning the gunicorn, worker and beat logs for personal data"
$BIN/python -m tests.log_scan "$OUT"/gunicorn*.log "$OUT"/worker*.log "$OUT"/beat.log || status=1
if grep -q "Traceback" "$OUT"/worker*.log "$OUT"/gunicorn*.log; then
  echo "A traceback in a worker's or gunicorn's log; see $OUT/." >&2
  status=1
fi
echo "== load: done in $((SECONDS - started)) s, status $status"
exit $status
