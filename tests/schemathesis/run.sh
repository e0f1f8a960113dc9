#!/usr/bin/env bash
# Property-based run of the whole OpenAPI document (schemathesis) against a running feria on a
# fresh SQLite database: every operation, anonymous and as the platform admin. Fails on any
# 5xx, on an answer that breaks the documented schema or status codes, or when feria dies.
# The assistant's providers point at a closed port on loopback, so a key that fuzzing gives a
# store fails at once and the answer is keyless (nothing leaves the machine).
#
#   bash tests/schemathesis/run.sh            # builds feria (debug) and runs
#   MAX_EXAMPLES=50 bash tests/schemathesis/run.sh
#
# schemathesis is installed into target/schemathesis-venv from PyPI (pinned below).
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${MAX_EXAMPLES:-15}
SEED=${SEED:-20261130}
VENV=target/schemathesis-venv

if [[ ! -x $VENV/bin/schemathesis ]] || [[ $($VENV/bin/schemathesis --version) != *"$SCHEMATHESIS_VERSION"* ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --bin feria
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL=admin@feria.test
ADMIN_PASSWORD=fuzzing-admin-password-1

env -i PATH="$PATH" HOME="$WORK" \
  DATABASE_URL="sqlite://$WORK/feria.db" HOST=127.0.0.1 PORT="$PORT" \
  JWT_SECRET=schemathesis-jwt-secret-that-is-long-enough-0123456789 \
  ENCRYPTION_KEY=schemathesis-encryption-key-long-enough-0123 \
  ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 JWT_EXPIRES_IN=2h \
  RATE_LIMIT_MAX_REQUESTS=100000000 AUTH_RATE_LIMIT_MAX_REQUESTS=100000000 \
  ORDER_RATE_LIMIT_MAX_REQUESTS=100000000 WEBHOOK_RATE_LIMIT_MAX_REQUESTS=100000000 \
  CHAT_RATE_LIMIT_MAX_REQUESTS=100000000 CHAT_TIMEOUT=2s \
  OPENAI_API_URL=http://127.0.0.1:9 ANTHROPIC_API_URL=http://127.0.0.1:9 MINIMAX_API_URL=http://127.0.0.1:9 \
  UPLOADS_DIR="$WORK/uploads" IMPORTS_DIR="$WORK/imports" LOG_LEVEL=warn \
  target/debug/feria serve --demo >"$WORK/feria.log" 2>&1 &
FERIA=$!
cleanup() {
  kill "$FERIA" 2>/dev/null || true
  wait "$FERIA" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
  curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
  kill -0 "$FERIA" 2>/dev/null || { cat "$WORK/feria.log"; echo "schemathesis: feria did not start" >&2; exit 1; }
  sleep 0.1
done

TOKEN=$(curl -fsS "$BASE/api/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() {
  local who=$1
  shift
  echo "== schemathesis ($who)"
  # One worker: with two, hypothesis (inside schemathesis) now and then trips over its own
  # shared caches and reports an error of its own.
  "$VENV/bin/schemathesis" run "$BASE/api/openapi.json" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
    --phases examples,coverage,fuzzing --no-shrink --request-timeout 30 \
    --report junit --report-dir "$WORK/report-$who" "$@"
}

status=0
run anonymous || status=1
run admin -H "Authorization: Bearer $TOKEN" || status=1

if ! kill -0 "$FERIA" 2>/dev/null; then
  echo "schemathesis: feria died during the run" >&2
  tail -50 "$WORK/feria.log" >&2
  exit 1
fi
if grep -q 'panicked' "$WORK/feria.log"; then
  echo "schemathesis: feria panicked during the run" >&2
  grep -A5 'panicked' "$WORK/feria.log" | head -40 >&2
  status=1
fi
exit $status
