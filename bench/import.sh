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
export JOB_POLL_INTERVAL_MS=100
source bench/lib.sh
token=$(admin_token)

python3 bench/make_import.py "$ROWS" "$work/products.xlsx"
echo "file: $ROWS rows, $(du -k "$work/products.xlsx" | cut -f1) KiB"
echo "RSS before: $(rss_mb) MB"

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
