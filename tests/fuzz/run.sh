#!/usr/bin/env bash
# Fuzz the partner API with schemathesis against a real gunicorn on PostgreSQL, with the demo
# data: as the alliance host (kirari) and as a partner brand (midori-fitness) at the same time,
# each with a key holding every scope. Every check, positive and negative data, all four phases.
# Any failure makes this script exit non-zero. What is suppressed, and why: README, "Fuzzing".
#
#   tests/fuzz/run.sh        the CI budget: 25 examples per operation and phase (about 6,700
#                            requests per key, both keys in about 3.5 minutes on 2 cores)
#   FUZZ_MAX_EXAMPLES=1000 FUZZ_MAX_TIME=1800 tests/fuzz/run.sh      a longer run (make fuzz-long);
#                            with a time budget, fuzzing and stateful repeat until it is spent
#
# It creates and drops its own database and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-.venv/bin}
PG=${FUZZ_PG:-postgres://postgres@127.0.0.1:5432}
DB=${FUZZ_DATABASE:-sanpo_fuzz}
PORT=${FUZZ_PORT:-8101}
HOOK_PORT=${FUZZ_HOOK_PORT:-$((PORT + 1))}
REDIS=${FUZZ_REDIS_URL:-redis://127.0.0.1:6379/3}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-25}
MAX_TIME=${FUZZ_MAX_TIME:-}
SEED=${FUZZ_SEED:-}
OUT=${FUZZ_OUT:-var/fuzz}
WORKERS=${FUZZ_WORKERS:-2}
# One schemathesis thread: with more, hypothesis describes strategies concurrently and trips over
# CPython's ast recursion counter ("AST constructor recursion depth mismatch").
THREADS=${FUZZ_THREADS:-1}

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.xml "$OUT"/*.ndjson

# Production settings (DEBUG off, no insecure shortcuts in the request path), except: plain
# http on loopback (no TLS proxy here), fixed development secrets (throwaway data), webhook
# receivers allowed on loopback (the receiver below), a rate limit the fuzzer cannot reach in
# one minute (429 is still documented and checked), and tasks run in the web process (no
# worker to start; a ping is delivered before the response).
export DATABASE_URL="$PG/$DB" REDIS_URL="$REDIS" DEBUG=false SANPO_BEHIND_TLS=false \
  SANPO_ALLOW_INSECURE_DEFAULTS=true SANPO_WEBHOOK_ALLOW_LOOPBACK=true \
  SANPO_API_RATE_LIMIT_PER_MINUTE=1000000 ALLOWED_HOSTS=127.0.0.1,localhost \
  SANPO_WEBHOOK_TIMEOUT_SECONDS=2 LOG_LEVEL=WARNING
unset CELERY_BROKER_URL

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== fuzz: a fresh database $DB"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
redis-cli -u "$REDIS" flushdb >/dev/null
$BIN/python manage.py migrate --no-input -v0
$BIN/python manage.py seed_demo --members 100 >/dev/null  # enough for every operation; quicker to seed
$BIN/python manage.py seed_demo_consents >/dev/null
HOST_KEY=$($BIN/python manage.py issue_api_key kirari --by manager --name "fuzz host")
BRAND_KEY=$($BIN/python manage.py issue_api_key midori-fitness --by manager --name "fuzz brand")

if curl -s -o /dev/null "http://127.0.0.1:$PORT/" || curl -s -o /dev/null "http://127.0.0.1:$HOOK_PORT/"; then
  echo "Something already listens on 127.0.0.1:$PORT or :$HOOK_PORT; set FUZZ_PORT." >&2
  exit 1
fi
echo "== fuzz: a webhook receiver on 127.0.0.1:$HOOK_PORT and gunicorn on 127.0.0.1:$PORT"
$BIN/python tests/fuzz/receiver.py "$HOOK_PORT" >"$OUT/receiver.log" 2>&1 &
pids+=($!)
$BIN/gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" --timeout 60 \
  --access-logfile - --error-logfile - >"$OUT/gunicorn.log" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/schema/" 2>/dev/null; then up=yes; break; fi
  sleep 0.5
done
if [ -z "$up" ]; then
  cat "$OUT/gunicorn.log" >&2
  echo "gunicorn did not answer on 127.0.0.1:$PORT within 30 s." >&2
  exit 1
fi

status=0
fuzz_as() {
  local who=$1 key=$2 key_id rc=0
  key_id=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$PORT/api/v1/me" \
    | $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["api_key"]["id"])')
  echo "== fuzz: as $who (key $key_id)"
  local started=$SECONDS
  SCHEMATHESIS_HOOKS=tests/fuzz/hooks.py SANPO_FUZZ_KEY_ID="$key_id" \
  SANPO_FUZZ_SUPPRESSED="$OUT/$who-suppressed.ndjson" \
  SANPO_FUZZ_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/hook" \
    $BIN/schemathesis --config-file tests/fuzz/schemathesis.toml run \
      "http://127.0.0.1:$PORT/api/schema/" \
      --url "http://127.0.0.1:$PORT" \
      --header "Authorization: Bearer $key" \
      --checks all --mode all --phases examples,coverage,fuzzing,stateful \
      --max-examples "$MAX_EXAMPLES" ${MAX_TIME:+--max-time "$MAX_TIME"} --workers "$THREADS" \
      --generation-database none --generation-allow-x00 false ${SEED:+--seed "$SEED"} \
      --report junit,ndjson --report-dir "$OUT" \
      --report-junit-path "$OUT/$who.xml" --report-ndjson-path "$OUT/$who.ndjson" \
      --no-color >"$OUT/$who.log" 2>&1 || rc=1
  cat "$OUT/$who.log"
  echo "== fuzz: as $who: done in $((SECONDS - started)) s; suppressed failures by reason:"
  if [ -s "$OUT/$who-suppressed.ndjson" ]; then
    $BIN/python -c 'import collections, json, sys
counts = collections.Counter(json.loads(line)["reason"] for line in open(sys.argv[1]))
for reason, count in counts.most_common(): print(f"  {count:6}  {reason}")' "$OUT/$who-suppressed.ndjson"
  fi
  return $rc
}

# Both keys at once: one schemathesis process and one request at a time each would leave
# half of the two cores idle. Each one's output is shown whole once it is done.
started=$SECONDS
fuzz_as host "$HOST_KEY" >"$OUT/host.out" 2>&1 &
host_run=$!
fuzz_as brand "$BRAND_KEY" >"$OUT/brand.out" 2>&1 &
brand_run=$!
wait $host_run || status=1
wait $brand_run || status=1
cat "$OUT/host.out" "$OUT/brand.out"
echo "== fuzz: $(grep -c '"schemathesis/' "$OUT/gunicorn.log" || true) requests from both keys in" \
  "$((SECONDS - started)) s"

if grep -q '"status": 500\|" 500 ' "$OUT/gunicorn.log"; then
  echo "The server answered 500; see $OUT/gunicorn.log." >&2
  status=1
fi
exit $status
