#!/usr/bin/env bash
# MCP benchmark (issue 12): `tools/call` over Streamable HTTP, stateless revision, at 32
# connections against a fresh release feria with the demo catalog: `get_products` (the
# catalog's first page) and `create_checkout` (a guest's UCP checkout session). Prints
# calls/s, p50, p99, failed calls and RSS. Targets: >= 5,000 calls/s for the search and
# >= 1,000/s for checkout creation on SQLite.
#
#   bash bench/mcp.sh
#   DURATION=5s bash bench/mcp.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/mcp.sh
#
# Needs wrk (Debian: apt-get install wrk) and python3. Never targets anything but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
PORT=${BENCH_PORT:-3919}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

source bench/lib.sh
"$feria" seed --demo >/dev/null
# Enough stock that no checkout runs short during the run.
token=$(admin_token)
PRODUCT_IDS=$(curl -fs "$base/api/products?limit=20" | python3 -c 'import sys, json; print(",".join(p["id"] for p in json.load(sys.stdin)["products"]))')
for id in ${PRODUCT_IDS//,/ }; do
  curl -fs -X PUT "$base/api/products/$id" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"stock": 100000}' >/dev/null
done
export PRODUCT_IDS

run() {
  local tool=$1 out
  sleep 1
  out=$(TOOL=$tool wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/mcp_call.lua "$base/mcp")
  printf '%-40s %10s calls/s   p50 %8s   p99 %8s   %s   RSS %s MB %s\n' "tools/call $tool" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$(awk '/failed calls/' <<<"$out")" "$(rss_mb)" "$(awk '/Non-2xx|Socket errors/' <<<"$out")"
}

echo "idle RSS: $(rss_mb) MB"
run get_products
run create_checkout
