#!/usr/bin/env bash
# Live-events benchmark: a fresh release feria, SOCKETS (10,000 by default) WebSockets opened
# on /api/notifications/live with the admin's token and left idle. Prints feria's resident
# memory before and after, and per connection.
#
#   bash bench/live.sh
#   SOCKETS=2000 bash bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKETS=${SOCKETS:-10000}
PORT=${BENCH_PORT:-3923}
export LIVE_MAX_CONNECTIONS=$((SOCKETS + 100))
source bench/lib.sh
token=$(admin_token)
python3 bench/live_sockets.py "$PORT" "$token" "$SOCKETS" "$pid"
