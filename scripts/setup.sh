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

# tmux drives the CLI's no-echo passphrase prompt through a pseudo-terminal (test/cli/prompt-tty.test.ts).
if ! command -v tmux >/dev/null 2>&1; then
  echo "== tmux is missing: installing it with apt-get (the CLI prompt test needs a terminal)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1; then
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tmux; } >&2 ||
      echo "== tmux install FAILED: the CLI prompt test will fail with the reason"
  else
    echo "== no apt-get here: install tmux yourself (the CLI prompt test needs it)"
  fi
fi
