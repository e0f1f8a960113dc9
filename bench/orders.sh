#!/usr/bin/env bash
# Order benchmark: a fresh release feria with 3 products (stock for millions of units) and an
# unlimited 10 % coupon; wrk at 32 connections places guest orders of 3 lines with the coupon
# (bench/orders.lua), then adds to a cart as one logged-in user. Prints req/s, p50, p99, RSS
# and checks afterwards that every order took its stock.
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
for p in "Bife de chorizo:12500.50:21" "Provoleta:4600:10.5" "Malbec:8900:21"; do
  IFS=: read -r name price tax <<<"$p"
  ids+=("$(post /api/products "{\"name\":\"$name\",\"description\":\"Bench\",\"price\":$price,\"taxRate\":$tax,\"stock\":100000000,\"category\":\"$category\",\"unit\":\"$unit\"}" | field '["id"]')")
done
post /api/coupons '{"code":"BENCH10","discountType":"percentage","discountValue":10}' >/dev/null
export PRODUCT_IDS=$(IFS=,; echo "${ids[*]}")

report() {
  printf '%-44s %10s req/s   p50 %8s   p99 %8s   RSS %s MB %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$2")" "$(awk '$1 == "50%" {print $2}' <<<"$2")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$2")" "$(rss_mb)" "$(awk '/Non-2xx|Socket errors/' <<<"$2")"
}

out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/orders.lua "$base")
report "POST /api/sales (3 lines, coupon, guest)" "$out"
placed=$(curl -fs "$base/api/sales?limit=1" -H "Authorization: Bearer $token" | field '["pagination"]["total"]')
left=$(curl -fs "$base/api/products/${ids[1]}" | field '["stock"]')
echo "orders placed: $placed; stock check: $((100000000 - left)) units of the 2-per-order product taken (expected $((2 * placed)))"

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
