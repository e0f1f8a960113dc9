# Shared by the bench scripts (source it after setting PORT): builds a release feria, starts it
# on a fresh database in a temporary folder with an admin, waits until it is ready and logs in.
# Sets: work (the folder), pid (feria's process), base (its URL), feria (the binary).
# Defines: rss_mb (feria's resident memory in MB), admin_token (logs in, prints the JWT).
# feria's log (warnings and errors, or BENCH_LOG_LEVEL) is kept in /tmp/bench-feria.log at the end.

# FERIA_BIN runs that binary instead of building this checkout (to compare two builds in turns).
feria=${FERIA_BIN:-./target/release/feria}
[ -n "${FERIA_BIN:-}" ] || cargo build --release --quiet
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is already in use: stop what listens there or set BENCH_PORT" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; cp "$work/feria.log" /tmp/bench-feria.log 2>/dev/null || true; rm -rf "$work"' EXIT

export PORT HOST=127.0.0.1 LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
export DATABASE_URL=${DATABASE_URL:-sqlite://$work/feria.db}
export UPLOADS_DIR=$work/uploads IMPORTS_DIR=$work/imports
export JWT_SECRET=bench-jwt-secret-0123456789abcdef0123456789 ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef0123
export RATE_LIMIT_MAX_REQUESTS=100000000 AUTH_RATE_LIMIT_MAX_REQUESTS=100000000 ORDER_RATE_LIMIT_MAX_REQUESTS=100000000

"$feria" user create --email bench@feria.test --name Bench --password bench-password --admin >/dev/null
"$feria" serve >"$work/feria.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  curl -fs "$base/api/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/api/ready" >/dev/null || { cat "$work/feria.log"; exit 1; }
admin_token() {
  curl -fs -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@feria.test","password":"bench-password"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])'
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }
