#!/usr/bin/env bash
# Broadcast benchmark: a fresh release feria whose default store has CUSTOMERS customers with
# accounts (100,000 by default, loaded with one SQL statement); the admin sends an announcement
# to all of them: in their inboxes, and by email through bench/fake_sendgrid.mjs (a SendGrid on
# loopback that answers at once) unless EMAIL=0. Prints how long until every customer has it in
# their inbox and every email went out, the peak memory (VmHWM) and the database's size.
# WORKERS=1 or 2 runs the jobs in that many `feria worker` processes instead of in `serve`.
#
#   bash bench/notifications.sh
#   CUSTOMERS=10000 WORKERS=2 bash bench/notifications.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/notifications.sh
#
# Needs node and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-100000}
WORKERS=${WORKERS:-0}
EMAIL=${EMAIL:-1}
PORT=${BENCH_PORT:-3922}
FAKE_SENDGRID_PORT=${FAKE_SENDGRID_PORT:-3930}
[ "$WORKERS" -gt 0 ] && export JOBS_IN_SERVE=false
if [ "$EMAIL" = 1 ]; then
  export SENDGRID_API_KEY=fake-key SENDGRID_FROM_EMAIL=tienda@bench.test SENDGRID_API_URL=http://127.0.0.1:$FAKE_SENDGRID_PORT
fi
source bench/lib.sh
extra_pids=""
previous=$(trap -p EXIT | awk -F"'" '{print $2}')
trap 'kill $extra_pids 2>/dev/null || true; '"$previous" EXIT
if [ "$EMAIL" = 1 ]; then
  FAKE_SENDGRID_PORT=$FAKE_SENDGRID_PORT node bench/fake_sendgrid.mjs &
  extra_pids="$extra_pids $!"
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$FAKE_SENDGRID_PORT/count" && break; sleep 0.1; done
fi
for n in $(seq 1 "$WORKERS"); do
  "$feria" worker >>"$work/feria.log" 2>&1 &
  extra_pids="$extra_pids $!"
done
token=$(admin_token)
field() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# Accounts and customers of the default store, generated in the database (one statement each).
load="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CUSTOMERS)"
users="$load INSERT INTO users (id, name, email, password_hash, roles, created_at, updated_at)
  SELECT 'bench-user-' || i, 'Cliente ' || i, 'cliente' || i || '@bench.test', '-', '[\"customer\"]', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z' FROM n"
customers="$load INSERT INTO customers (id, store_id, user_id, name, email, is_guest, created_at, updated_at)
  SELECT 'bench-customer-' || i, (SELECT id FROM stores ORDER BY created_at LIMIT 1), 'bench-user-' || i, 'Cliente ' || i,
         'cliente' || i || '@bench.test', 0, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z' FROM n"
case "$DATABASE_URL" in
  postgres*) for sql in "$users" "$customers"; do psql -q "$DATABASE_URL" -c "$sql"; done ;;
  *) python3 - "${DATABASE_URL#sqlite://}" "$users" "$customers" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
for sql in sys.argv[2:]:
    db.execute(sql)
db.commit()
PY
  ;;
esac
echo "customers loaded: $CUSTOMERS; RSS before $(rss_mb) MB"

started=$(date +%s.%N)
sent=$(curl -s -X POST "$base/api/broadcasts" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"kind":"announcement","audience":"customers","title":"Cerramos el feriado","body":"El lunes no abrimos; volvemos el martes."}')
id=$(field '["id"]' <<<"$sent" 2>/dev/null) || { echo "the broadcast was refused: $sent" >&2; exit 1; }
# The customers' in-app messages are `delivered` at once; their emails are `sent` once SendGrid
# took them (the admin, a customer too, gets both).
want_sent=$([ "$EMAIL" = 1 ] && echo "$CUSTOMERS" || echo 0)
inboxes_at=""
while :; do
  sleep 0.2
  report=$(curl -fs "$base/api/broadcasts/$id" -H "Authorization: Bearer $token")
  delivered=$(field '["messages"].get("delivered", 0)' <<<"$report")
  sent=$(field '["messages"].get("sent", 0)' <<<"$report")
  if [ -z "$inboxes_at" ] && [ "$delivered" -ge "$CUSTOMERS" ]; then
    inboxes_at=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  fi
  [ -n "$inboxes_at" ] && [ "$sent" -ge "$want_sent" ] && break
done
elapsed=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
echo "announcement to $CUSTOMERS customers (jobs in $([ "$WORKERS" -gt 0 ] && echo "$WORKERS worker(s)" || echo serve)):" \
  "in every inbox after $inboxes_at s; $([ "$EMAIL" = 1 ] && echo "$sent emails sent" || echo "no email") after $elapsed s" \
  "($(python3 -c "print(round($CUSTOMERS / $elapsed))") recipients/s)"
echo "peak RSS: serve $(hwm_mb "$pid") MB$(for p in $extra_pids; do [ "$(cat /proc/$p/comm 2>/dev/null)" = feria ] && echo -n ", worker $(hwm_mb "$p") MB"; done)"
[ "$EMAIL" = 1 ] && echo "fake SendGrid took $(curl -fs "http://127.0.0.1:$FAKE_SENDGRID_PORT/count") mails"
case "$DATABASE_URL" in
  postgres*) echo "database: $(psql -qtA "$DATABASE_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")" ;;
  *) echo "database: $(du -sh "$work" | cut -f1) (SQLite file and WAL)" ;;
esac
