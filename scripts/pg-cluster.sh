#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for trying fleetdex on PostgreSQL and for CI's conformance
# runs: initdb into DIR, pg_ctl on a free loopback port, trust authentication for the user
# `fleetdex`, no fsync (data is thrown away). PostgreSQL refuses to run as root, so as root
# the server runs as the `postgres` user (Debian's postgresql-15 makes it).
#
#   url=$(scripts/pg-cluster.sh start /tmp/fleetdex-pg)   # prints postgres://fleetdex@127.0.0.1:PORT
#   createdb -h 127.0.0.1 -p PORT -U fleetdex fleet          # or: psql "$url/postgres" -c 'CREATE DATABASE fleet'
#   fleetdex --db "$url/fleet" import-things fleet.jsonl
#   scripts/pg-cluster.sh stop /tmp/fleetdex-pg
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR}
dir=${2:?usage: pg-cluster.sh start|stop DIR}

bin=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$bin/initdb" ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bin/initdb" ] || { echo "pg-cluster.sh: initdb not found (scripts/setup.sh installs postgresql-15)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    chmod 700 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U fleetdex -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://fleetdex@127.0.0.1:$port"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg-cluster.sh start|stop DIR" >&2
    exit 64
    ;;
esac
