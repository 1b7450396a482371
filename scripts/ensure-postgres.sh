#!/usr/bin/env bash
# Make sure a real PostgreSQL server is running for the store tests, and print its URL.
#
# Installs Debian's `postgresql` package when the server binaries are missing, then runs a
# private cluster (its own data directory and port, so it never touches a system cluster)
# under the `postgres` system user, because the server refuses to run as root.
# Idempotent: a second call finds the cluster running and only prints the URL.
set -euo pipefail

PORT="${COOP_PG_PORT:-55432}"
PGDATA="${COOP_PG_DATA:-/tmp/carriercoop-pg}"
URL="postgresql+psycopg://coop:coop@127.0.0.1:${PORT}/coop_test"

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BINDIR="$(find_bindir)"
if [ -z "$BINDIR" ] || [ ! -x "$BINDIR/postgres" ]; then
    echo "installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BINDIR="$(find_bindir)"
fi

as_pg() {
    if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$PGDATA"
    as_pg "$BINDIR/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
fi

if ! as_pg "$BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
        -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1" start >&2
fi

psql_pg() { as_pg "$BINDIR/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_pg -c "select 1 from pg_roles where rolname = 'coop'")" != "1" ]; then
    psql_pg -c "create role coop login password 'coop'" >&2
fi
if [ "$(psql_pg -c "select 1 from pg_database where datname = 'coop_test'")" != "1" ]; then
    psql_pg -c "create database coop_test owner coop" >&2
fi
echo "$URL"
