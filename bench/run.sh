#!/usr/bin/env bash
# Foundation benchmark: GET /api/health and POST /api/auth/login against a release build on a
# fresh SQLite database, with wrk on the same machine. Prints req/s, p50, p99 and feria's RSS.
#
#   bash bench/run.sh                 # defaults: 64 connections, 10 s per endpoint
#   CONNECTIONS=128 DURATION=30s bash bench/run.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/run.sh
#
# Needs wrk (Debian: apt-get install wrk). Never targets anything but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
PORT=${BENCH_PORT:-3917}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

export PORT HOST=127.0.0.1 LOG_LEVEL=warn
export DATABASE_URL=${DATABASE_URL:-sqlite://$work/feria.db}
export JWT_SECRET=bench-jwt-secret-0123456789abcdef0123456789 ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef0123
export RATE_LIMIT_MAX_REQUESTS=100000000 AUTH_RATE_LIMIT_MAX_REQUESTS=100000000
./target/release/feria user create --email bench@feria.test --name Bench --password bench-password >/dev/null

./target/release/feria serve >"$work/feria.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/api/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$PORT/api/ready" >/dev/null || { cat "$work/feria.log"; exit 1; }

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }
echo "argon2id cost: m=${ARGON2_MEMORY_KIB:-19456} KiB, t=${ARGON2_ITERATIONS:-2}, p=${ARGON2_PARALLELISM:-1}"
echo "idle RSS after start: $(rss_mb) MB"

# run NAME CONNECTIONS WRK_ARGS...
run() {
  local name=$1 conns=$2; shift 2
  sleep 2 # let the previous run's queued work drain
  local out
  out=$(wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  printf '%-32s %10s req/s   p50 %8s   p99 %8s   RSS %s MB %s\n' "$name" "$rps" "$p50" "$p99" "$(rss_mb)" "${errors:+  !! $errors}"
}

run "GET /api/health" "$CONNECTIONS" "http://127.0.0.1:$PORT/api/health"
run "POST /api/auth/login" "$CONNECTIONS" -s bench/login.lua "http://127.0.0.1:$PORT/api/auth/login"
# One connection at a time: the latency is one argon2 verification plus the request itself.
THREADS=1 run "POST /api/auth/login, 1 conn" 1 -s bench/login.lua "http://127.0.0.1:$PORT/api/auth/login"
sleep 1
echo "RSS after load: $(rss_mb) MB"
