#!/usr/bin/env bash
# rasa data validate with --fail-on-warnings, which in Rasa 3.6 still exits 0 on some
# warnings (unused responses, for one): any warning fails here.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
.venv/bin/rasa data validate --fail-on-warnings --config config.yml --domain domain.yml --data data >"$log" 2>&1
status=$?
# Responses said by code (coach_names.py) are used, though not in stories.
said_by_code=$(.venv/bin/python -c "from coach_names import SAID_BY_CODE; print('|'.join(SAID_BY_CODE))")
warnings=$(grep -E "UserWarning|^[0-9-]+ [0-9:]+ +WARNING" "$log" \
  | grep -vE "The utterance '($said_by_code)' is not used in any story or rule" || true)
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
  cat "$log" >&2
  echo "rasa data validate: not clean (see the warnings above)" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "rasa data validate: clean"
.venv/bin/python -m scripts.check_project
