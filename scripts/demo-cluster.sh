#!/usr/bin/env bash
# Scale-out in one command: installs what it needs (node packages from the lock, the nutshell mint's virtualenv,
# nats-server v2.15.3 built once per user — a few minutes the first time), then runs three engine nodes on a
# 3-node NATS JetStream cluster against a local reference mint (see demo/cluster.ts). Extra arguments pass
# through (--verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/mint.sh install
bash scripts/nats.sh install
exec node --import tsx demo/cluster.ts "$@"
