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
  # `npm install`, not `npm ci`: the registry this machine reaches lacks some other-platform optional packages
  # (e.g. @biomejs/cli-android-*), so the lock cannot list them and `npm ci` refuses the lock as out of sync.
  # The lock still pins every version installed here; --no-save keeps package.json and the lock untouched.
  echo "== npm install (from the lock)"
  npm install --no-save --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
