#!/usr/bin/env bash
# Installs the project's dependencies from the lock file when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "node is required (>= 20.19)" >&2
  exit 1
fi
stamp=node_modules/.corecashu-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "== npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
