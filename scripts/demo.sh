#!/usr/bin/env bash
# The main job. Installs what it needs, then runs the demo (see src/cli/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node --import tsx src/cli/demo.ts
