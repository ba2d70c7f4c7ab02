#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL 15 (127.0.0.1:5432) as a second cluster on
# 127.0.0.1:5433, for the reports read from a replica (README, "Read replica";
# tests/test_replica.py). Run as root (CI) or as the postgres user.
#
#   .ci/replica.sh [start]   start it: nothing if it already runs, else a fresh pg_basebackup
#   .ci/replica.sh stop      stop it and remove its data
#   .ci/replica.sh status    say whether it runs and streams
#
# A fresh base backup each start rather than restarting an old copy: without a replication slot
# (which would keep the primary's WAL for a replica that may never come back) an old copy may
# need WAL the primary has recycled. It costs a few seconds on a test cluster.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
PRIMARY_PORT=${SANPO_REPLICA_PRIMARY_PORT:-5432}
PORT=${SANPO_REPLICA_PORT:-5433}
DIR=${SANPO_REPLICA_DIR:-/var/lib/postgresql/15/sanpo-replica}
NAME=sanpo-replica
case "$DIR" in
  /?*/?*) ;;
  *)
    echo "SANPO_REPLICA_DIR=$DIR: give a directory of its own, two levels down at least." >&2
    exit 2
    ;;
esac

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

primary() {
  psql -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atc "$1"
}

running() {
  [ -f "$DIR/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1
}

streaming() {
  [ "$(primary "SELECT count(*) FROM pg_stat_replication
                WHERE application_name = '$NAME' AND state = 'streaming'")" = 1 ]
}

check_primary() {
  local version wal_level
  version=$(primary "SHOW server_version_num")
  if [ "${version:0:2}" != 15 ]; then
    echo "The primary on port $PRIMARY_PORT is PostgreSQL $version, not 15." >&2
    exit 1
  fi
  wal_level=$(primary "SHOW wal_level")
  if [ "$wal_level" = minimal ]; then
    echo "The primary's wal_level is minimal: set replica (the default) and restart it." >&2
    exit 1
  fi
  # Replication connections match only a pg_hba.conf line naming `replication`.
  local allowed
  allowed=$(primary "SELECT count(*) FROM pg_hba_file_rules
                     WHERE type = 'host' AND 'replication' = ANY(database)
                       AND address = '127.0.0.1' AND auth_method = 'trust' AND error IS NULL")
  if [ "$allowed" = 0 ]; then
    local hba
    hba=$(primary "SHOW hba_file")
    echo "Allowing replication connections from 127.0.0.1 in $hba."
    printf '%s\n' "host replication all 127.0.0.1/32 trust  # .ci/replica.sh" >>"$hba"
    primary "SELECT pg_reload_conf()" >/dev/null
  fi
}

configure() {
  # Debian keeps a cluster's configuration in /etc, so the base backup has none: the replica
  # gets its own. A hot standby needs these limits at least as high as its primary's.
  local name limits=""
  for name in max_connections max_worker_processes max_wal_senders \
    max_prepared_transactions max_locks_per_transaction; do
    limits+="$name = $(primary "SHOW $name")"$'\n'
  done
  as_postgres tee "$DIR/postgresql.conf" >/dev/null <<EOF
# Written by .ci/replica.sh: a hot standby streaming from 127.0.0.1:$PRIMARY_PORT.
cluster_name = '$NAME'
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
hot_standby = on
shared_buffers = 32MB
hba_file = '$DIR/pg_hba.conf'
ident_file = '$DIR/pg_ident.conf'
$limits
EOF
  as_postgres tee "$DIR/pg_hba.conf" >/dev/null <<'EOF'
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_postgres touch "$DIR/pg_ident.conf"
}

start() {
  if running; then
    echo "The replica already runs on port $PORT."
    return
  fi
  check_primary
  rm -rf "$DIR"
  install -d -o postgres -g postgres -m 700 "$DIR"
  # -R writes standby.signal and primary_conninfo; -c fast does not wait for a checkpoint.
  as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR" \
    -R -X stream -c fast
  configure
  as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/replica.log" -w -t 60 start >/dev/null
  for _ in $(seq 60); do
    if streaming; then
      echo "The replica streams from port $PRIMARY_PORT on port $PORT."
      return
    fi
    sleep 0.5
  done
  cat "$DIR/replica.log" >&2
  echo "The replica started but does not stream from the primary." >&2
  exit 1
}

stop() {
  # Immediate: its data is removed next, so no restartpoint is worth writing.
  if running; then
    as_postgres "$BIN/pg_ctl" -D "$DIR" -m immediate -w stop >/dev/null
  fi
  rm -rf "$DIR"
  echo "The replica is stopped."
}

status() {
  if running && streaming; then
    echo "The replica streams from port $PRIMARY_PORT on port $PORT."
  elif running; then
    echo "The replica runs on port $PORT but does not stream." >&2
    exit 1
  else
    echo "The replica is not running." >&2
    exit 3
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
