#!/usr/bin/env bash
# Broadcast benchmark: a fresh release feria whose default store has CUSTOMERS customers with
# accounts (100,000 by default, loaded with one SQL statement); the admin sends an announcement
# to all of them (in-app: no provider needed). Prints how long until every customer has it in
# their inbox, the peak memory (VmHWM) and the database's size.
#
#   bash bench/notifications.sh
#   CUSTOMERS=10000 bash bench/notifications.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/notifications.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-100000}
PORT=${BENCH_PORT:-3922}
source bench/lib.sh
token=$(admin_token)
field() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }

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
reached=0
while [ "$reached" -lt "$CUSTOMERS" ]; do
  sleep 0.2
  reached=$(curl -fs "$base/api/broadcasts/$id" -H "Authorization: Bearer $token" | field "[\"messages\"].get(\"delivered\", 0)")
done
elapsed=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
echo "announcement to $CUSTOMERS customers in their inboxes in $elapsed s ($(python3 -c "print(round($CUSTOMERS / $elapsed))") recipients/s); peak RSS $(hwm_mb) MB"
case "$DATABASE_URL" in
  postgres*) echo "database: $(psql -qtA "$DATABASE_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")" ;;
  *) echo "database: $(du -sh "$work" | cut -f1) (SQLite file and WAL)" ;;
esac
