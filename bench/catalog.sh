#!/usr/bin/env bash
# Catalog benchmark: loads N products (default 10,000) into a fresh release feria through the
# API, waits until search sees them all, then loads with wrk at 64 connections:
# list (page 1, 20 per page), search for a word, get by id (all three repeat one request, so
# listing and search are answered from the node's answer cache after the first), and searches
# that are all different (bench/distinct_searches.lua: the full search path every time).
# Prints req/s, p50, p99, RSS.
#
#   bash bench/catalog.sh
#   PRODUCTS=2000 DURATION=5s bash bench/catalog.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/catalog.sh
#
# Needs wrk (Debian: apt-get install wrk) and python3. Never targets anything but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

PRODUCTS=${PRODUCTS:-10000}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
PORT=${BENCH_PORT:-3918}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

source bench/lib.sh
token=$(admin_token)

python3 bench/load_catalog.py "$base" "$token" "$PRODUCTS"
started=$(date +%s.%N)
until [ "$(curl -fs "$base/api/products/search?limit=1" | python3 -c 'import sys, json; print(json.load(sys.stdin)["total"])')" = "$PRODUCTS" ]; do sleep 0.1; done
echo "search index complete $(python3 -c "print(round($(date +%s.%N) - $started, 2))") s after the last write"
sleep 2

echo "idle RSS with $PRODUCTS products indexed: $(rss_mb) MB"
id=$(curl -fs "$base/api/products?limit=1" | python3 -c 'import sys, json; print(json.load(sys.stdin)["products"][0]["id"])')

run() {
  local name=$1 url=$2 script=${3:-} out
  sleep 1
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency ${script:+-s "$script"} "$url")
  printf '%-40s %10s req/s   p50 %8s   p99 %8s   RSS %s MB %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$(rss_mb)" "$(awk '/Non-2xx|Socket errors/' <<<"$out")"
}

run "GET /api/products?page=1&limit=20" "$base/api/products?page=1&limit=20"
run "GET /api/products/search?q=chorizo" "$base/api/products/search?q=chorizo"
run "GET /api/products/{id}" "$base/api/products/$id"
# The first pass fills the product cache; the second is the steady state.
run "search, every query different (warm-up)" "$base" bench/distinct_searches.lua
run "search, every query different" "$base" bench/distinct_searches.lua
sleep 5
echo "idle RSS after the runs: $(rss_mb) MB"
