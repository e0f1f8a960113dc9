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

source bench/lib.sh

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

run "GET /api/health" "$CONNECTIONS" "$base/api/health"
run "POST /api/auth/login" "$CONNECTIONS" -s bench/login.lua "$base/api/auth/login"
# One connection at a time: the latency is one argon2 verification plus the request itself.
THREADS=1 run "POST /api/auth/login, 1 conn" 1 -s bench/login.lua "$base/api/auth/login"
sleep 1
echo "RSS after load: $(rss_mb) MB"
