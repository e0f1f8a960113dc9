#!/usr/bin/env bash
# Order benchmark: a fresh release feria with 60 products (stock for millions of units) and an
# unlimited 10 % coupon; wrk at 32 connections places guest orders of 3 lines with the coupon
# (bench/orders.lua): first across the catalog (each order the next 3 products), then as a flash
# sale (every order the same 3 products, whose stock rows serialise the orders); then adds to a
# cart as one logged-in user. Prints req/s, p50, p99, RSS, feria's CPU time per order (once the
# job queue has fanned out the orders' notifications), and checks afterwards that the stock
# taken is exactly what the orders asked for.
#
#   bash bench/orders.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/orders.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
PORT=${BENCH_PORT:-3920}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

source bench/lib.sh
token=$(admin_token)
post() { curl -fs -X POST "$base$1" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$2"; }
field() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

category=$(post /api/categories '{"name":"Carnes","description":"Bench"}' | field '["id"]')
unit=$(post /api/units '{"name":"Unidad","description":"Bench"}' | field '["id"]')
ids=()
for i in $(seq -w 1 60); do
  ids+=("$(post /api/products "{\"name\":\"Producto $i\",\"description\":\"Bench\",\"price\":12500.50,\"taxRate\":21,\"stock\":100000000,\"category\":\"$category\",\"unit\":\"$unit\"}" | field '["id"]')")
done
post /api/coupons '{"code":"BENCH10","discountType":"percentage","discountValue":10}' >/dev/null

report() {
  printf '%-52s %10s req/s   p50 %8s   p99 %8s   RSS %s MB %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$2")" "$(awk '$1 == "50%" {print $2}' <<<"$2")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$2")" "$(rss_mb)" "$(awk '/Non-2xx|Socket errors/' <<<"$2")"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
ticks_before=$(cpu_ticks)
out=$(PRODUCT_IDS=$(IFS=,; echo "${ids[*]}") wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/orders.lua "$base")
report "POST /api/sales across 60 products (3 lines, coupon)" "$out"
out=$(PRODUCT_IDS="${ids[0]},${ids[1]},${ids[2]}" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/orders.lua "$base")
report "POST /api/sales flash sale: same 3 products" "$out"
# The orders' notifications are fanned out by the job queue: wait until it has caught up, so
# the CPU figure below holds everything an order costs.
waited=$SECONDS
jobs_left() {
  local n=0
  for state in queued running; do
    n=$((n + $(curl -fs "$base/api/admin/jobs?state=$state&limit=1" -H "Authorization: Bearer $token" | field '["total"]')))
  done
  echo "$n"
}
[ "${JOBS_IN_SERVE:-true}" = false ] || while [ "$(jobs_left)" != 0 ]; do sleep 0.2; done
fanout_lag=$((SECONDS - waited))
placed=$(curl -fs "$base/api/sales?limit=1" -H "Authorization: Bearer $token" | field '["pagination"]["total"]')
taken=$(curl -fs "$base/api/products?limit=100" | python3 -c 'import sys, json; print(sum(100000000 - p["stock"] for p in json.load(sys.stdin)["products"]))')
echo "orders placed: $placed; stock check: $taken units taken (expected $((4 * placed)))"
ms_per_order=$(python3 -c "print(round(($(cpu_ticks) - $ticks_before) * 1000 / $(getconf CLK_TCK) / $placed, 3))")
echo "feria CPU per order (request, fan-out and the jobs they queue): $ms_per_order ms; jobs caught up ${fanout_lag} s after the last order"

cat > "$work/cart.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"productId":"${ids[0]}","quantity":1}'
LUA
post /api/cart/items "{\"productId\":\"${ids[0]}\",\"quantity\":1}" >/dev/null
curl -fs -X PUT "$base/api/products/${ids[0]}" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d '{"stock":2000000000}' >/dev/null
out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/cart.lua" "$base/api/cart/items")
report "POST /api/cart/items (one user)" "$out"
