#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing (as root), or says
# exactly what to install. Usage: scripts/system_packages.sh base|browser|scaled
#   base:    curl, and Node.js + npm for the web widget's socket.io-client
#   browser: Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium)
#   scaled:  PostgreSQL, Redis and nginx for the scaled-out profile and its tests
set -euo pipefail

need=()
case "${1:-base}" in
  base)
    command -v curl >/dev/null 2>&1 || need+=(curl)
    command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
    ;;
  scaled)
    # the scaled-out profile and its tests: PostgreSQL, Redis, nginx
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
    ;;
  browser)
    [ -x /usr/bin/chromium ] || need+=(chromium)
    ;;
  *) echo "usage: $0 base|browser|scaled" >&2; exit 2 ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "error: missing system packages: ${need[*]}" >&2
  echo "  install them, e.g.: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
