#!/usr/bin/env bash
# Assistant benchmark and evaluation (issue 13), against a fresh release feria with the demo
# catalog: the evaluation set (bench/assistant/questions.json, printed score), then visitors'
# questions at 32 connections (questions/s, p50, p99, RSS). MODE=keyless (no provider: the
# embedded default) or MODE=fake (bench/assistant/fake_model.mjs as the OpenAI provider, which
# answers at once, so the figures are feria's own overhead around a model). Targets: keyless
# >= 1,000 questions/s, p50 <= 15 ms with the fake model.
#
#   bash bench/assistant.sh
#   MODE=fake bash bench/assistant.sh
#   MODE=fake DATABASE_URL=postgres://postgres@127.0.0.1:5432/feria_bench bash bench/assistant.sh
#
# Needs wrk (Debian: apt-get install wrk), node and python3. Never targets anything but 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${MODE:-keyless}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
PORT=${BENCH_PORT:-3921}
FAKE_MODEL_PORT=${FAKE_MODEL_PORT:-3929}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
export CHAT_RATE_LIMIT_MAX_REQUESTS=1000000000
case $MODE in
  keyless) ;;
  fake) export OPENAI_API_KEY=fake-key OPENAI_API_URL=http://127.0.0.1:$FAKE_MODEL_PORT OPENAI_MODEL=fake-model ;;
  *) echo "MODE is keyless or fake" >&2; exit 1 ;;
esac

source bench/lib.sh
if [ "$MODE" = fake ]; then
  FAKE_MODEL_PORT=$FAKE_MODEL_PORT node bench/assistant/fake_model.mjs >/dev/null &
  fake_pid=$!
  previous=$(trap -p EXIT | awk -F"'" '{print $2}')
  trap "kill $fake_pid 2>/dev/null || true; $previous" EXIT
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$FAKE_MODEL_PORT/" && break; sleep 0.1; done
fi
"$feria" seed --demo >/dev/null
# The running feria indexes the demo catalog from the change log: wait until its search sees it.
for _ in $(seq 1 50); do
  curl -fs "$base/api/products/search?q=vacio" | grep -q '"total":[1-9]' && break
  sleep 0.2
done

echo "== evaluation ($MODE)"
BASE=$base EMAIL=bench@feria.test PASSWORD=bench-password node bench/assistant/eval.mjs

echo "== benchmark ($MODE, $CONNECTIONS connections, $DURATION)"
echo "idle RSS: $(rss_mb) MB"
sleep 1
out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/assistant/query.lua "$base/api/chatbot/query")
printf '%-30s %10s questions/s   p50 %8s   p99 %8s   RSS %s MB %s\n' "POST /api/chatbot/query" \
  "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
  "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$(rss_mb)" "$(awk '/Non-2xx|Socket errors/' <<<"$out")"
