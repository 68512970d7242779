#!/usr/bin/env bash
# Fetches the third-party web client the browser tests drive against the socket.io channel:
# rasa-webchat 1.0.1 from the npm registry, checked against its pinned sha512, unpacked to
# build/web-clients/rasa-webchat/ (its self-contained bundle lib/index.js and its licence).
# Idempotent: skips when the bundle is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=rasa-webchat@1.0.1
INTEGRITY="sha512-Ld1zVJvTAaTrs6A5p8t70agNNrKYRyXlvqXZRgBoDvKKUXbA0jhJKECi5bdPGlaR6jsmqWtVylHS+YqIqo0x8w=="
DEST=build/web-clients/rasa-webchat

[ -f "$DEST/index.js" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$PACKAGE" --silent --loglevel=error >/dev/null)
tarball=$(ls "$tmp"/*.tgz)
actual=$(node -e 'const c=require("crypto"),f=require("fs");
  console.log("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
if [ "$actual" != "$INTEGRITY" ]; then
  echo "error: $PACKAGE does not match its pinned sha512 (got $actual)" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp" package/lib/index.js package/LICENSE
mkdir -p "$DEST"
mv "$tmp/package/lib/index.js" "$tmp/package/LICENSE" "$DEST/"
echo "fetched $PACKAGE for the browser tests"
