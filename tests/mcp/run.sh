#!/usr/bin/env bash
# The official MCP Python SDK against feria (tests/mcp/client.py): a fresh SQLite database
# with the demo catalog, one guest order, two API keys, and the admin approving OAuth consents. Fails when any check fails.
#
#   bash tests/mcp/run.sh
#
# The SDK is installed into target/mcp-venv from PyPI (pinned below).
set -euo pipefail
cd "$(dirname "$0")/../.."

MCP_VERSION=2.3.0
VENV=target/mcp-venv
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "mcp==$MCP_VERSION"
fi

cargo build --quiet --bin feria
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL=admin@feria.test
ADMIN_PASSWORD=mcp-client-admin-password-1
export DATABASE_URL="sqlite://$WORK/feria.db" JWT_SECRET=mcp-client-jwt-secret-that-is-long-enough-0123456789 \
  ENCRYPTION_KEY=mcp-client-encryption-key-long-enough-012345 ADMIN_EMAIL ADMIN_PASSWORD \
  ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 UPLOADS_DIR="$WORK/uploads" IMPORTS_DIR="$WORK/imports" LOG_LEVEL=warn

HOST=127.0.0.1 PORT="$PORT" API_URL="$BASE" target/debug/feria serve --demo >"$WORK/feria.log" 2>&1 &
FERIA=$!
cleanup() {
  kill "$FERIA" 2>/dev/null || true
  wait "$FERIA" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
  kill -0 "$FERIA" 2>/dev/null || { cat "$WORK/feria.log"; echo "mcp: feria did not start" >&2; exit 1; }
  sleep 0.1
done

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fsS "$BASE/api/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | json '["token"]')
key() {
  curl -fsS "$BASE/api/api-keys" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"$1\",\"scopes\":\"$2\"}" | json '["key"]'
}
OWNER_KEY=$(key owner "catalog:read catalog:write prices:write orders:read orders:write payments:read customers:read customers:write")
READER_KEY=$(key reader "catalog:read orders:read")
PRODUCT=$(curl -fsS "$BASE/api/products/search?q=vacio&inStock=true&limit=1" | json '["products"][0]["id"]')
GUEST_EMAIL=eva@example.com
ORDER_NUMBER=$(curl -fsS "$BASE/api/sales" -H 'content-type: application/json' -d "{
  \"items\": [{\"productId\": \"$PRODUCT\", \"quantity\": 1}],
  \"customerData\": {\"name\": \"Eva Pérez\", \"email\": \"$GUEST_EMAIL\"},
  \"shippingAddress\": {\"street\": \"Av. Santa Fe\", \"number\": \"1234\", \"neighborhood\": \"Palermo\", \"city\": \"CABA\"}
}" | json '["order"]["orderNumber"]')

FERIA_URL="$BASE" FERIA_BIN="$PWD/target/debug/feria" FERIA_DATABASE="$DATABASE_URL" \
  OWNER_KEY="$OWNER_KEY" READER_KEY="$READER_KEY" ORDER_NUMBER="$ORDER_NUMBER" GUEST_EMAIL="$GUEST_EMAIL" \
  OWNER_EMAIL="$ADMIN_EMAIL" OWNER_PASSWORD="$ADMIN_PASSWORD" \
  "$VENV/bin/python" tests/mcp/client.py
