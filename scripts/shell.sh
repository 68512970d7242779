#!/usr/bin/env bash
# `make shell`: a quick chat in the terminal with the current model. Starts the action
# server for the session (unless one already answers) and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
MODEL=$(.venv/bin/python scripts/train_model.py --print-current)
pid=""
if ! curl -fs http://127.0.0.1:5055/health >/dev/null 2>&1; then
  mkdir -p build/logs
  .venv/bin/python scripts/run_action_server.py > build/logs/action_server.log 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do curl -fs http://127.0.0.1:5055/health >/dev/null 2>&1 && break; sleep 1; done
fi
.venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml
