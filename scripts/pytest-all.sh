#!/usr/bin/env bash
# Runs the suite on the embedded SQLite database, then on PostgreSQL + Redis.
# With CI=true the PostgreSQL/Redis run is mandatory and fails if the services are unreachable;
# without CI it runs when PostgreSQL answers and is skipped (with a message) when it does not.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set (__pycache__ is ignored by git): without
# them every worker compiles and assert-rewrites every test module (14 → 6 s of CPU to collect, per worker) and
# every child process a test starts (`manage.py` in the crash tests, Celery workers) compiles the app again.
unset PYTHONDONTWRITEBYTECODE
PG_URL=${HAETAE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/haetae}
# pytest-xdist workers (HAETAE_TEST_WORKERS=0 runs in one process). Each worker has its own database (pytest-django
# appends _gw0, _gw1 …; the first to set up migrates, the others copy it: tests/databases.py) and its own Redis
# db: REDIS_URL's db number plus the worker's (tests/conftest.py). Work stealing: a worker that runs out of tests
# takes half of the other's queue (with xdist's default `load`, one worker idled for minutes at the end while the
# other ran its queue of slow tests); the slow modules run first (tests/conftest.py, slow_modules_first).
WORKERS=${HAETAE_TEST_WORKERS:-2}
# The PostgreSQL leg's own count (default: HAETAE_TEST_WORKERS, else 3). It is the longer leg and waits more
# (browsers, child processes, the server): with two workers it ran alone on a half-idle machine for its last
# six minutes once the SQLite leg was done; a third fills those waits.
POSTGRES_WORKERS=${HAETAE_TEST_POSTGRES_WORKERS:-${HAETAE_TEST_WORKERS:-3}}
REDIS_URL=${HAETAE_TEST_BROKER_URL:-redis://127.0.0.1:6379/12}
xdist_args() {
  if [ "$1" != "0" ]; then
    echo "-n $1 --dist worksteal"
  fi
}
XDIST_ARGS=($(xdist_args "$WORKERS"))
POSTGRES_XDIST_ARGS=($(xdist_args "$POSTGRES_WORKERS"))

pg_up() { $PY - "$PG_URL" <<'PYEOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr); sys.exit(1)
PYEOF
}

# With both legs, each is told which it is (HAETAE_TEST_LEG) and tests/conftest.py splits the work. The
# PostgreSQL leg runs every test that touches the database (PostgreSQL is what production runs), the access
# matrices and the browser tests among them. The SQLite leg runs the ~600 tests that touch no database (no
# django_db marker, no db/transactional_db/live_server fixture: the same answer on both legs), and of the
# database tests only those of code that takes its own path on SQLite, the embedded database of `make run`
# (tests/conftest.py SQLITE_LEG_DATABASE: search, the ledger's triggers, writers' locks, crash recovery, the
# flows). Without PostgreSQL the SQLite run does everything.
SQLITE_LEG=()
POSTGRES_LEG=()
if [ "${CI:-}" = "true" ] || pg_up 2>/dev/null; then
  SQLITE_LEG=(HAETAE_TEST_LEG=sqlite)
  POSTGRES_LEG=(HAETAE_TEST_LEG=postgres)
fi

run_sqlite() {
  env -u DATABASE_URL -u CELERY_BROKER_URL "${SQLITE_LEG[@]}" $PY -m pytest "${XDIST_ARGS[@]}" "$@"
}
# The PostgreSQL leg acts as the application role (not a superuser, not the tables' owner: it cannot touch
# the ledger's triggers nor update or delete the ledger), as production does (docs/operations.md);
# HAETAE_TEST_APP_ROLE= (empty) runs it as the connecting owner instead.
APP_ROLE=${HAETAE_TEST_APP_ROLE-haetae_app}
run_postgres() {
  env DATABASE_URL="$PG_URL" CELERY_BROKER_URL="$REDIS_URL" HAETAE_REQUIRE_SERVICES="${CI:-}" \
    HAETAE_TEST_APP_ROLE="$APP_ROLE" "${POSTGRES_LEG[@]}" $PY -m pytest "${POSTGRES_XDIST_ARGS[@]}" "$@"
}

if [ "${CI:-}" = "true" ] || pg_up 2>/dev/null; then
  pg_up || { echo "CI=true: the suite must run on PostgreSQL, which is unreachable." >&2; exit 1; }
  # Both legs at once: each leg alone leaves a third of two cores idle (waits on child processes, the
  # browser, the database). Each has its own temporary directory; their reports are printed in turn.
  work=$(mktemp -d)
  echo "== pytest on SQLite (embedded default, eager tasks) and on PostgreSQL ($PG_URL) with Redis" \
    "($REDIS_URL), at once =="
  run_sqlite --basetemp="$work/sqlite" "$@" >"$work/sqlite.log" 2>&1 &
  sqlite_pid=$!
  run_postgres --basetemp="$work/postgres" "$@" >"$work/postgres.log" 2>&1
  postgres_rc=$?
  wait "$sqlite_pid"
  sqlite_rc=$?
  echo "== pytest on SQLite (embedded default, eager tasks): exit $sqlite_rc =="
  cat "$work/sqlite.log"
  echo "== pytest on PostgreSQL ($PG_URL) with Redis ($REDIS_URL): exit $postgres_rc =="
  cat "$work/postgres.log"
  rm -rf "$work"
  [ "$sqlite_rc" -eq 0 ] || exit "$sqlite_rc"
  exit "$postgres_rc"
fi

echo "== pytest on SQLite (embedded default, eager tasks) =="
run_sqlite "$@" || exit $?
echo "PostgreSQL not reachable at $PG_URL: skipped the PostgreSQL run (CI=true makes it mandatory)."
