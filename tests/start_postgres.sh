#!/bin/sh
# A PostgreSQL for the store tests (tests/pg_fixtures.py), run by `make test`:
#   1. $GUESTSYNC_TEST_PG, a server started here before (.venv/pg/url), or the machine's
#      server on 127.0.0.1:5432, if one answers;
#   2. else (as root) the machine's Debian clusters, started with pg_ctlcluster;
#   3. else a private cluster: initdb + pg_ctl from Debian's postgresql package (installed
#      with apt-get when root and absent) into .venv/pg, on 127.0.0.1 and a free port,
#      trust authentication, as the `postgres` user when run as root (initdb refuses root).
# Never a download from elsewhere. If none can be had it says so and the PostgreSQL tests
# skip (saying why); the exit status is 0 either way.
set -u
PY=${PY:-.venv/bin/python}
DIR=${PG_TEST_DIR:-.venv/pg}
DEFAULT=${PG_DEFAULT_URL:-postgresql://postgres@127.0.0.1:5432/postgres}

answers() {
	"$PY" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
		"$1" 2>/dev/null
}

done_with() { echo "postgres for the tests: $1"; exit 0; }

if [ -n "${GUESTSYNC_TEST_PG:-}" ] && answers "$GUESTSYNC_TEST_PG"; then
	done_with "$GUESTSYNC_TEST_PG (GUESTSYNC_TEST_PG)"
fi
if [ -f "$DIR/url" ] && answers "$(cat "$DIR/url")"; then done_with "$(cat "$DIR/url")"; fi
if answers "$DEFAULT"; then done_with "$DEFAULT"; fi

root=false
[ "$(id -u)" = 0 ] && root=true
if $root && command -v pg_lsclusters >/dev/null 2>&1; then
	pg_lsclusters -h 2>/dev/null | while read -r ver name _port status _rest; do
		[ "$status" = online ] || pg_ctlcluster "$ver" "$name" start 2>/dev/null
	done
	if answers "$DEFAULT"; then done_with "$DEFAULT (the machine's cluster, started)"; fi
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] && $root && command -v apt-get >/dev/null 2>&1; then
	echo "installing Debian's postgresql package for the store tests"
	apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if answers "$DEFAULT"; then done_with "$DEFAULT (installed)"; fi
fi
if [ -z "$bindir" ]; then
	echo "no PostgreSQL here (not running, not installed, no root to install it):" \
		"the PostgreSQL store tests will skip"
	exit 0
fi

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
as_owner() { if $root; then runuser -u postgres -- "$@"; else "$@"; fi; }
if $root; then chown -R postgres "$DIR"; fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
	as_owner "$bindir/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		>"$DIR/initdb.log" 2>&1 || { echo "initdb failed: see $DIR/initdb.log"; exit 0; }
fi
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bindir/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -p $port -k $DIR" start >/dev/null 2>&1
url="postgresql://postgres@127.0.0.1:$port/postgres"
if answers "$url"; then
	echo "$url" >"$DIR/url"
	done_with "$url (a private cluster in $DIR; stop it with: $bindir/pg_ctl -D $DIR/data stop)"
fi
echo "could not start PostgreSQL (see $DIR/server.log): the PostgreSQL store tests will skip"
exit 0
