#!/usr/bin/env bash
# Runs pytest and refuses to call "no tests ran" (exit 5) a success or a plain failure.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
status=$?
if [ $status -eq 5 ]; then
  echo "error: pytest collected no tests; check the test paths and markers" >&2
  exit 1
fi
exit $status
