#!/usr/bin/env bash
# The main job: installs what it needs (node packages from the lock, the nutshell mint's virtualenv), then runs
# two wallets of one engine against a local reference mint (see demo/demo.ts). Extra arguments pass through
# (--keep, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/mint.sh install
exec node --import tsx demo/demo.ts "$@"
