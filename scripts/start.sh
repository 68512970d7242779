#!/usr/bin/env bash
# The README's first command: set up, train if needed, start the action server and
# `rasa run` on loopback, and say how to talk to the assistant. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1

HOST=${CRAMP_COACH_HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
ACTION_SERVER_PORT=${ACTION_SERVER_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}

scripts/setup_env.sh
if [ -n "${MODEL:-}" ]; then
  # A chosen model (e.g. to roll back): MODEL=models/cramp-coach-....tar.gz make run
  [ -f "$MODEL" ] || { echo "error: no model file $MODEL (see: make models)" >&2; exit 1; }
else
  .venv/bin/python scripts/train_model.py
  MODEL=$(.venv/bin/python scripts/train_model.py --print-current)
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

mkdir -p build/logs
.venv/bin/python scripts/run_action_server.py --port "$ACTION_SERVER_PORT" > build/logs/action_server.log 2>&1 &
pids+=($!)

credentials=credentials.yml
if [ -n "${TELEGRAM_TOKEN:-}" ]; then
  credentials=credentials-telegram.yml  # needs TELEGRAM_BOT_NAME and TELEGRAM_SECRET_TOKEN too
fi

api_args=()
if [ -n "${RASA_AUTH_TOKEN:-}" ]; then
  # The HTTP API (trackers, model control) only ever behind a token.
  api_args=(--enable-api --auth-token "$RASA_AUTH_TOKEN")
fi
.venv/bin/python scripts/serve_web.py --host "$HOST" --port "$WEB_PORT" \
  --rasa-url "http://$HOST:$RASA_PORT" > build/logs/web.log 2>&1 &
pids+=($!)

.venv/bin/rasa run --model "$MODEL" --endpoints endpoints.yml --credentials "$credentials" \
  --interface "$HOST" --port "$RASA_PORT" "${api_args[@]}" > build/logs/rasa.log 2>&1 &
pids+=($!)

echo "starting Cramp Coach (model $(basename "$MODEL")); logs in build/logs/"
for _ in $(seq 1 120); do
  if curl -fs "http://$HOST:$RASA_PORT/webhooks/rest/" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$ACTION_SERVER_PORT/health" >/dev/null 2>&1; then
    cat <<TXT

Cramp Coach is running.
  Web:    http://$HOST:$WEB_PORT/   (the chat widget on a demo page)
  REST:   POST http://$HOST:$RASA_PORT/webhooks/rest/webhook
          curl -s http://$HOST:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
               -d '{"sender": "me", "message": "I have a cramp right now"}'
  Shell:  make shell   (in another terminal)
Press Ctrl-C to stop.
TXT
    wait -n "${pids[@]}"
    echo "a server stopped; see build/logs/" >&2
    exit 1
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server failed to start; see build/logs/" >&2; tail -n 20 build/logs/*.log >&2; exit 1; }
  done
  sleep 1
done
echo "servers did not answer within 120 s; see build/logs/" >&2
exit 1
