#!/usr/bin/env bash
# Import benchmark: builds an XLSX of ROWS products (default 10,000) and times its bulk import
# on a fresh release feria, from upload to "done"; prints peak memory (VmHWM) to show the file
# is streamed. ROWS=50000 checks a large file.
#
#   bash bench/import.sh
#   ROWS=50000 bash bench/import.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000}
PORT=${BENCH_PORT:-3919}
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

export PORT HOST=127.0.0.1 LOG_LEVEL=warn JOB_POLL_INTERVAL_MS=100
export DATABASE_URL=${DATABASE_URL:-sqlite://$work/feria.db}
export UPLOADS_DIR=$work/uploads IMPORTS_DIR=$work/imports
export JWT_SECRET=bench-jwt-secret-0123456789abcdef0123456789 ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef0123

python3 bench/make_import.py "$ROWS" "$work/products.xlsx"
echo "file: $ROWS rows, $(du -k "$work/products.xlsx" | cut -f1) KiB"
./target/release/feria user create --email bench@feria.test --name Bench --password bench-password --admin >/dev/null
./target/release/feria serve >"$work/feria.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$base/api/ready" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -fs -X POST "$base/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@feria.test","password":"bench-password"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
echo "RSS before: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status") MB"

started=$(date +%s.%N)
job=$(curl -fs -H "Authorization: Bearer $token" -F "file=@$work/products.xlsx" "$base/api/products/bulk-import" | python3 -c 'import sys, json; print(json.load(sys.stdin)["jobId"])')
while :; do
  status=$(curl -fs -H "Authorization: Bearer $token" "$base/api/import/status/$job")
  state=$(python3 -c 'import sys, json; print(json.loads(sys.argv[1])["status"])' "$status")
  [ "$state" = done ] || [ "$state" = failed ] && break
  sleep 0.05
done
elapsed=$(python3 -c "print(round($(date +%s.%N) - $started, 2))")
echo "import $state in $elapsed s: $(python3 -c 'import sys, json; d = json.loads(sys.argv[1]); print(d["created"], "created,", d["updated"], "updated,", d["errorCount"], "errors")' "$status")"
echo "peak RSS (VmHWM): $(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status") MB"
