#!/usr/bin/env bash
# The nutshell reference mint (PyPI cashu==0.20.3, FakeWallet, SQLite in a fresh temp dir, 127.0.0.1 only) for the
# integration tests and for trying the wallet by hand.
#
#   bash scripts/mint.sh install   prepare the virtualenv (.cache/nutshell-venv); idempotent, instant when done
#   bash scripts/mint.sh start     run a mint in the foreground; prints `MINT_URL=http://127.0.0.1:PORT` once it
#                                  answers /v1/info and serves an active secp256k1 sat keyset; Ctrl-C / SIGTERM
#                                  stop it; it also stops when the process that started it exits
#   bash scripts/mint.sh invoice N print a valid bolt11 invoice for N sat from a random payee that no mint created:
#                                  a FakeWallet mint pays it (fee 1 sat, reserve >= 2 sat), so a melt gets change
#
# Every nutshell setting is an environment variable and passes through. Defaults set here (override them):
#   MINT_INPUT_FEE_PPK=0 (nutshell's own default is 100), MINT_RATE_LIMIT=FALSE,
#   FAKEWALLET_BRR=TRUE (invoices are paid automatically), FAKEWALLET_DELAY_INCOMING_PAYMENT=0.5,
#   FAKEWALLET_DELAY_OUTGOING_PAYMENT=0.5, MINT_BACKEND_BOLT11_SAT=FakeWallet, MINT_PRIVATE_KEY=TEST_PRIVATE_KEY.
# Others that matter: FAKEWALLET_PAY_INVOICE_STATE (SETTLED|FAILED|PENDING|UNKNOWN, melt outcome),
# FAKEWALLET_PAYMENT_STATE, MINT_QUOTE_BACKEND_CHECK_RATE_LIMIT, MINT_REDIS_CACHE_ENABLED + MINT_REDIS_CACHE_URL
# (NUT-19 needs a redis server), MINT_MAX_MINT_BOLT11_SAT, MINT_MAX_MELT_BOLT11_SAT. The listen address, port and
# database are owned by the harness. See the README (Test support).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/nutshell-venv"
reqs="$root/scripts/nutshell-requirements.txt"
stamp="$venv/.corecashu-installed"

venv_ready() {
  [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$reqs" "$stamp"
}

install() {
  venv_ready && return 0
  mkdir -p "$root/.cache"
  # Several test workers may start mints at once on a fresh clone: one installs, the others wait.
  exec 9>"$root/.cache/nutshell-venv.lock"
  flock 9
  if venv_ready; then
    exec 9>&-
    return 0
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    echo "mint.sh: python3 (>= 3.10) is required for the nutshell mint" >&2
    return 1
  fi
  if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "mint.sh: nutshell needs python >= 3.10, found $(python3 --version 2>&1)" >&2
    return 1
  fi
  echo "== nutshell mint: installing cashu==0.20.3 into .cache/nutshell-venv (first time only, ~1 min)" >&2
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    echo "mint.sh: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    return 1
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-input -r "$reqs" >&2
  cp "$reqs" "$stamp"
  exec 9>&-
}

case "${1:-}" in
  install)
    if venv_ready; then
      echo "== nutshell mint: venv ready (cashu==0.20.3)"
    else
      install
    fi
    ;;
  start)
    install
    export MINT_BACKEND_BOLT11_SAT="${MINT_BACKEND_BOLT11_SAT:-FakeWallet}"
    export MINT_PRIVATE_KEY="${MINT_PRIVATE_KEY:-TEST_PRIVATE_KEY}"
    export MINT_INPUT_FEE_PPK="${MINT_INPUT_FEE_PPK:-0}"
    export MINT_RATE_LIMIT="${MINT_RATE_LIMIT:-FALSE}"
    export FAKEWALLET_BRR="${FAKEWALLET_BRR:-TRUE}"
    export FAKEWALLET_DELAY_INCOMING_PAYMENT="${FAKEWALLET_DELAY_INCOMING_PAYMENT:-0.5}"
    export FAKEWALLET_DELAY_OUTGOING_PAYMENT="${FAKEWALLET_DELAY_OUTGOING_PAYMENT:-0.5}"
    export PYTHONUNBUFFERED=1
    # exec: the mint's parent is our caller, so it dies with the caller (PR_SET_PDEATHSIG in the helper).
    exec "$venv/bin/python" "$root/scripts/nutshell_mint.py"
    ;;
  invoice)
    install
    exec "$venv/bin/python" "$root/scripts/nutshell_mint.py" invoice "${2:-}"
    ;;
  *)
    echo "usage: bash scripts/mint.sh install|start|invoice AMOUNT_SAT" >&2
    exit 2
    ;;
esac
