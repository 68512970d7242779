#!/usr/bin/env bash
# rasa data validate with --fail-on-warnings, which in Rasa 3.6 still exits 0 on some
# warnings (unused responses, for one): any warning fails here.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
.venv/bin/rasa data validate --fail-on-warnings --config config.yml --domain domain.yml --data data >"$log" 2>&1
status=$?
warnings=$(grep -E "UserWarning|^[0-9-]+ [0-9:]+ +WARNING" "$log" || true)
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
  cat "$log" >&2
  echo "rasa data validate: not clean (see the warnings above)" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "rasa data validate: clean"
.venv/bin/python scripts/check_project.py
