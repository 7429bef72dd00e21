#!/usr/bin/env bash
# The CDK reference mint (cdk-mintd 0.18.3 from the Rust crate registry, fake wallet, SQLite in a fresh temp dir,
# 127.0.0.1 only, an in-memory NUT-19 response cache) for the integration tests and for trying the wallet by hand.
#
#   bash scripts/cdk-mint.sh install   build cdk-mintd once into a per-user cache folder outside the clone,
#                                      ${XDG_CACHE_HOME:-~/.cache}/corecashu/cdk-mintd-0.18.3-fakewallet-sqlite (~15 min on 2 cores, at
#                                      low priority); idempotent, instant when done
#   bash scripts/cdk-mint.sh start     run a mint in the foreground; prints `MINT_URL=http://127.0.0.1:PORT` once it
#                                      answers /v1/info and serves an active secp256k1 sat keyset; Ctrl-C / SIGTERM
#                                      stop it; it also stops when the process that started it exits. Never builds:
#                                      without the binary it fails at once and says how to build it
#   bash scripts/cdk-mint.sh stop      stop every mint this user started with this script (by the pid files in
#                                      their work dirs)
#
# Settings (environment; defaults in brackets):
#   MINT_INPUT_FEE_PPK [0]             input fee of the keysets, as for nutshell (scripts/mint.sh)
#   CDK_MINT_FEE_PERCENT [0.02]        fake wallet melt fee reserve: max(fee_percent * amount, reserve_fee_min)
#   CDK_MINT_RESERVE_FEE_MIN [2]       (the fake wallet charges 1 sat per payment, so a melt always gets change)
#   CDK_MINT_DELAY_SECONDS [1]         fake wallet delay before a quote's invoice counts as paid, and per melt payment
#   CDK_MINT_CACHE_TTL [300]           NUT-19 cache ttl and tti in seconds (advertised as nut 19 `ttl`)
#   CDK_MINT_MNEMONIC [a fixed test]   the mint's BIP39 seed (written to a 0600 file, passed as a `file:` reference)
#   CDK_MINT_LOG_LEVEL [warn]          cdk-mintd's stderr log level
#   CDK_MINTD_BIN                      use this cdk-mintd binary instead of the cached build
# cdk-mintd's own CDK_MINTD_* bootstrap variables are cleared: the harness owns the work dir and the database.
# How it is built and run, and how CDK answers differently from nutshell: the README (Test support).
set -euo pipefail

CDK_VERSION="0.18.3"
# Only what the tests run: the fake wallet and SQLite. The default features add CLN, LND, BDK (electrum,
# esplora, bitcoind RPC), a gRPC payment processor and the management RPC: measured here, the default build took
# 86 min on 2 loaded cores, this one 22 min there and 13 min through `install` on a quiet machine with a cold
# cache. The cache folder is keyed by version and features.
CDK_FEATURES="fakewallet,sqlite"
cache_base="${XDG_CACHE_HOME:-$HOME/.cache}/corecashu"
prefix="$cache_base/cdk-mintd-$CDK_VERSION-${CDK_FEATURES//,/-}"
bin="${CDK_MINTD_BIN:-$prefix/bin/cdk-mintd}"
READY_TIMEOUT_S="${MINT_HARNESS_READY_TIMEOUT:-120}"

say() { echo "cdk-mint.sh: $*" >&2; }

binary_ready() {
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "cdk-mintd $CDK_VERSION"
}

find_cargo() {
  if command -v cargo >/dev/null 2>&1; then
    command -v cargo
  elif [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "$HOME/.cargo/bin/cargo"
  else
    return 1
  fi
}

ensure_protoc() {
  command -v protoc >/dev/null 2>&1 && return 0
  say "protoc is missing (cdk-mintd's gRPC crates need it): installing protobuf-compiler with apt-get"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install protoc (protobuf-compiler) yourself"
    return 1
  fi
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq protobuf-compiler >&2
  command -v protoc >/dev/null 2>&1
}

install() {
  binary_ready && return 0
  if [ -n "${CDK_MINTD_BIN:-}" ]; then
    say "CDK_MINTD_BIN=$CDK_MINTD_BIN is not an executable cdk-mintd $CDK_VERSION"
    return 1
  fi
  mkdir -p "$cache_base"
  # One build per user and version, even when several processes ask at once: the others wait.
  exec 9>"$cache_base/cdk-mintd-$CDK_VERSION.lock"
  flock 9
  if binary_ready; then
    exec 9>&-
    return 0
  fi
  local cargo
  if ! cargo="$(find_cargo)"; then
    say "cargo (Rust >= 1.85) is required to build cdk-mintd $CDK_VERSION: https://rustup.rs"
    return 1
  fi
  PATH="$(dirname "$cargo"):$PATH"
  ensure_protoc || return 1
  local partial="$prefix.partial.$$"
  rm -rf "$partial"
  say "building cdk-mintd $CDK_VERSION into $prefix (first time only, ~15 min on 2 cores, low priority)"
  local t0=$SECONDS
  local nicer=(nice -n 19)
  command -v ionice >/dev/null 2>&1 && nicer+=(ionice -c 3)
  if ! "${nicer[@]}" "$cargo" install cdk-mintd --version "$CDK_VERSION" --locked \
    --no-default-features --features "$CDK_FEATURES" --root "$partial" >&2; then
    rm -rf "$partial"
    say "cargo install cdk-mintd $CDK_VERSION failed (see above)"
    return 1
  fi
  if ! "$partial/bin/cdk-mintd" --version 2>/dev/null | grep -qx "cdk-mintd $CDK_VERSION"; then
    rm -rf "$partial"
    say "the build produced no working cdk-mintd $CDK_VERSION"
    return 1
  fi
  rm -rf "$prefix" # a broken earlier install (binary_ready said no)
  mv -T "$partial" "$prefix"
  say "cdk-mintd $CDK_VERSION built in $(((SECONDS - t0) / 60)) min $(((SECONDS - t0) % 60)) s"
  exec 9>&-
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# Waits until BASE answers /v1/info and serves an active secp256k1 sat keyset (ids 00…/01…); prints the mint's
# version. Exit 0 ready, 1 up but wrong (message on stderr), 2 not answering before the deadline.
wait_ready() {
  BASE="$1" DEADLINE_MS="$2" node -e '
    const base = process.env.BASE
    const deadline = Number(process.env.DEADLINE_MS)
    const get = async (p) => {
      const res = await fetch(base + p, { signal: AbortSignal.timeout(5000) })
      if (res.status !== 200) throw new Error(`GET ${p}: HTTP ${res.status}`)
      return res.json()
    }
    const main = async () => {
      let last = "no answer"
      while (Date.now() < deadline) {
        try {
          const info = await get("/v1/info")
          const { keysets = [] } = await get("/v1/keysets")
          const good = keysets.filter((k) => k.active && k.unit === "sat" && /^0[01]/.test(String(k.id)))
          if (good.length > 0) {
            console.log(info.version ?? "?")
            return 0
          }
          const seen = keysets.map((k) => `${String(k.id).slice(0, 4)}…/${k.unit}/active=${k.active}`)
          last = `no active secp256k1 sat keyset (ids 00…/01…); mint serves: [${seen.join(", ")}]`
        } catch (e) {
          last = String(e?.cause?.code ?? e?.message ?? e)
        }
        await new Promise((r) => setTimeout(r, 200))
      }
      console.error(`cdk-mint.sh: mint not ready: ${last}`)
      return 2
    }
    main().then((code) => process.exit(code))
  '
}

write_config() {
  local dir="$1" port="$2"
  cat >"$dir/config.toml" <<EOF
# Written by scripts/cdk-mint.sh for one test mint; imported with \`cdk-mintd config init --new-mint\`.
[info]
url = "http://127.0.0.1:$port"
listen_host = "127.0.0.1"
listen_port = $port
mnemonic = "file:$dir/mnemonic"
input_fee_ppk = $fee_ppk
enable_info_page = false

[info.quote_ttl]
mint_ttl = 3600
melt_ttl = 3600

[info.logging]
output = "stderr"
console_level = "$log_level"

[info.http_cache]
backend = "memory"
ttl = $cache_ttl
tti = $cache_ttl

[signatory]
enabled = false

[database]
engine = "sqlite"

[payment_backend]
backend = "fakewallet"
unit = "sat"

[fake_wallet]
fee_percent = $fee_percent
reserve_fee_min = $reserve_fee_min
custom_payment_methods = []
min_delay_time = $delay
max_delay_time = $delay
EOF
}

mint_pid=""
ready_pid=""
work=""

cleanup() {
  [ -n "$ready_pid" ] && kill "$ready_pid" 2>/dev/null || true
  ready_pid=""
  if [ -n "$mint_pid" ] && kill -0 "$mint_pid" 2>/dev/null; then
    # cdk-mintd shuts down gracefully on SIGINT only; SIGKILL if it takes more than 5 s.
    kill -INT "$mint_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$mint_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$mint_pid" 2>/dev/null || true
    wait "$mint_pid" 2>/dev/null || true
  fi
  mint_pid=""
  [ -n "$work" ] && rm -rf "$work"
  work=""
}

serve() {
  for v in $(compgen -e | grep '^CDK_MINTD_' || true); do unset "$v"; done
  fee_ppk="${MINT_INPUT_FEE_PPK:-0}"
  fee_percent="${CDK_MINT_FEE_PERCENT:-0.02}"
  reserve_fee_min="${CDK_MINT_RESERVE_FEE_MIN:-2}"
  delay="${CDK_MINT_DELAY_SECONDS:-1}"
  cache_ttl="${CDK_MINT_CACHE_TTL:-300}"
  log_level="${CDK_MINT_LOG_LEVEL:-warn}"
  local mnemonic="${CDK_MINT_MNEMONIC:-abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about}"
  for n in "$fee_ppk" "$reserve_fee_min" "$delay" "$cache_ttl"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { say "not a whole number: $n"; exit 2; }
  done
  [[ "$fee_percent" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { say "CDK_MINT_FEE_PERCENT is not a number: $fee_percent"; exit 2; }
  [[ "$log_level" =~ ^(error|warn|info|debug|trace)$ ]] || { say "bad CDK_MINT_LOG_LEVEL: $log_level"; exit 2; }

  if ! binary_ready; then
    say "cdk-mintd $CDK_VERSION is not built ($bin): run \`bash scripts/cdk-mint.sh install\` (once, ~15 min on 2 cores; scripts/test.sh does it)"
    exit 1
  fi
  trap 'cleanup; exit 0' INT TERM
  trap cleanup EXIT

  local pdeath=()
  command -v setpriv >/dev/null 2>&1 && pdeath=(setpriv --pdeathsig KILL --)
  local deadline_ms=$(( $(date +%s%3N) + READY_TIMEOUT_S * 1000 ))
  local attempt
  for attempt in 1 2 3 4 5; do
    work="$(mktemp -d "${TMPDIR:-/tmp}/corecashu-cdk-XXXXXX")"
    (umask 077 && printf '%s\n' "$mnemonic" >"$work/mnemonic")
    local port
    port="$(free_port)"
    write_config "$work" "$port"
    if ! "$bin" config validate --file "$work/config.toml" >"$work/init.log" 2>&1 ||
      ! "$bin" --work-dir "$work" config init --new-mint --file "$work/config.toml" >>"$work/init.log" 2>&1; then
      cat "$work/init.log" >&2
      say "cdk-mintd config init failed"
      exit 1
    fi
    # The mint dies with this script even if the script is SIGKILLed (PR_SET_PDEATHSIG via setpriv).
    "${pdeath[@]}" "$bin" --work-dir "$work" 2> >(tee "$work/mintd.log" >&2) &
    mint_pid=$!
    echo "$mint_pid" >"$work/mintd.pid"
    # In the background so that a SIGTERM during the wait is handled at once, not after the check gives up.
    wait_ready "http://127.0.0.1:$port" "$deadline_ms" >"$work/ready" &
    ready_pid=$!
    local version status=0
    wait "$ready_pid" || status=$?
    ready_pid=""
    version="$(cat "$work/ready")"
    if [ "$status" -eq 0 ] && kill -0 "$mint_pid" 2>/dev/null; then
      echo "# mint ready: $version (work dir $work)" >&2
      echo "MINT_URL=http://127.0.0.1:$port"
      local rc=0
      wait "$mint_pid" || rc=$?
      mint_pid=""
      say "cdk-mintd exited (code $rc)"
      exit "$rc"
    fi
    if ! kill -0 "$mint_pid" 2>/dev/null && grep -qi "address already in use\|address in use" "$work/mintd.log"; then
      say "port $port was taken before cdk-mintd bound it (attempt $attempt); trying another"
      cleanup
      continue
    fi
    [ "$status" -eq 0 ] && say "cdk-mintd exited before it was ready"
    exit 1
  done
  say "no free port after 5 attempts"
  exit 1
}

case "${1:-}" in
  install)
    if binary_ready; then
      echo "== cdk mint: cdk-mintd $CDK_VERSION ready ($bin)"
    else
      install
      echo "== cdk mint: cdk-mintd $CDK_VERSION ready ($bin)"
    fi
    ;;
  start)
    # Re-exec under PR_SET_PDEATHSIG: when our caller dies (even by SIGKILL) we get SIGTERM and stop the mint.
    if [ -z "${CDK_MINT_SH_CHILD:-}" ] && command -v setpriv >/dev/null 2>&1; then
      CDK_MINT_SH_CHILD=1 exec setpriv --pdeathsig TERM -- bash "$0" start
    fi
    serve
    ;;
  stop)
    found=0
    for pidfile in "${TMPDIR:-/tmp}"/corecashu-cdk-*/mintd.pid; do
      [ -f "$pidfile" ] || continue
      pid="$(cat "$pidfile")"
      if [ -O "$pidfile" ] && kill -0 "$pid" 2>/dev/null && grep -q cdk-mintd "/proc/$pid/cmdline" 2>/dev/null; then
        kill -INT "$pid" && found=$((found + 1))
      fi
    done
    echo "== cdk mint: asked $found mint(s) to stop"
    ;;
  *)
    echo "usage: bash scripts/cdk-mint.sh install|start|stop" >&2
    exit 2
    ;;
esac
