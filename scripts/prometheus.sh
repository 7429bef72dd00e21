#!/usr/bin/env bash
# Prometheus (Debian's `prometheus` package, 2.42 on bookworm) for the test that lets a real Prometheus scrape
# an engine's /metrics listener and reads the series back through its HTTP API (issue #15), and for looking at
# an engine's metrics by hand. 127.0.0.1 only, a free port, data in a temp dir.
#
#   bash scripts/prometheus.sh install           apt-get install the package (sudo -n when not root) unless
#                                                /usr/bin/prometheus is there; idempotent, instant when done.
#                                                Only the binary is wanted: if the install started the system
#                                                service (systemd hosts; a container's policy-rc.d forbids it),
#                                                it is stopped and disabled again
#   bash scripts/prometheus.sh start --target HOST:PORT [--dir D] [--owner-pid P]
#                                                write D/prometheus.yml (one job `corecashu` scraping
#                                                http://HOST:PORT/metrics every 1 s), start prometheus in the
#                                                background on 127.0.0.1:<free port>, storing under D/data
#                                                (default D: a fresh temp dir), wait until /-/ready answers 200,
#                                                print `PROMETHEUS_URL=http://127.0.0.1:P` and `PROMETHEUS_DIR=D`
#                                                on stdout and return. With --owner-pid, prometheus is stopped
#                                                (and D removed) when process P exits. Never installs: without
#                                                the binary it fails at once and says how to install it
#   bash scripts/prometheus.sh stop [--dir D]    stop what `start` started in D (SIGTERM, then wait; SIGKILL
#                                                after 10 s) and remove D; without --dir, every such dir of this
#                                                user
#
# D holds prometheus.yml, prometheus.pid, prometheus.log, data/ (the TSDB), prometheus.env (PROMETHEUS_URL=…,
# PROMETHEUS_DIR=…) and, with --owner-pid, watchdog.pid.
#
# Settings (environment):
#   PROMETHEUS_BIN [/usr/bin/prometheus]         use this prometheus binary instead
#   PROMETHEUS_READY_TIMEOUT [60]                seconds to wait for /-/ready
set -euo pipefail

bin="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
READY_TIMEOUT_S="${PROMETHEUS_READY_TIMEOUT:-60}"
JOB="corecashu"

say() { echo "prometheus.sh: $*" >&2; }

SERVICE=prometheus
# shellcheck source=scripts/lib/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-service.sh"

binary_ready() {
  [ -x "$bin" ] && "$bin" --version 2>&1 | grep -q "^prometheus, version "
}

# The system service's processes (the package's own prometheus, user `prometheus`), not ones this script
# started (those run from a corecashu-prometheus dir with our --config.file).
system_pids() {
  local pid
  for pid in $(pgrep -x prometheus 2>/dev/null || true); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--storage.tsdb.path" || echo "$pid"
  done
}

install() {
  binary_ready && return 0
  if [ -n "${PROMETHEUS_BIN:-}" ]; then
    say "PROMETHEUS_BIN=$PROMETHEUS_BIN is not an executable prometheus"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install Prometheus (>= 2.x) yourself and set PROMETHEUS_BIN"
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  local before
  before="$(system_pids)"
  say "installing Debian's prometheus package with apt-get (the binary only is used)"
  # --no-install-recommends: not prometheus-node-exporter, another service nobody here wants.
  if ! { $sudo apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >&2; }; then
    say "apt-get install prometheus failed (see above)"
    return 1
  fi
  binary_ready || { say "the package installed no working $bin"; return 1; }
  # The package enables and starts a service listening on :9090 where an init system lets it; the tests start
  # their own on a free port, so a system one would only scrape itself for nothing: stop it if we started it.
  local after
  after="$(system_pids)"
  if [ -z "$before" ] && [ -n "$after" ]; then
    say "the install started the system prometheus service (pid $(echo "$after" | tr '\n' ' ')): stopping and disabling it"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now prometheus.service >&2 || say "systemctl disable --now prometheus failed"
    else
      $sudo service prometheus stop >&2 || say "service prometheus stop failed"
    fi
  fi
}

stop_dir() {
  stop_dir_of "$1" prometheus.yml "--config.file="
}

start() {
  local target="" dir="" owner=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --target) target="${2:?--target HOST:PORT}"; shift 2 ;;
      --dir) dir="${2:?--dir D}"; shift 2 ;;
      --owner-pid) owner="${2:?--owner-pid P}"; shift 2 ;;
      *) say "start: unknown argument $1"; exit 2 ;;
    esac
  done
  [[ "$target" =~ ^[A-Za-z0-9.:_-]+:[0-9]+$|^\[[0-9a-fA-F:]+\]:[0-9]+$ ]] || {
    say "start needs --target HOST:PORT (the engine's telemetry listener), not '${target}'"
    exit 2
  }
  [ -z "$owner" ] || [[ "$owner" =~ ^[0-9]+$ ]] || { say "--owner-pid is not a pid: $owner"; exit 2; }
  if ! binary_ready; then
    say "prometheus is not installed ($bin): run \`bash scripts/prometheus.sh install\` (Debian's package; scripts/test.sh does it)"
    exit 1
  fi
  if [ -z "$dir" ]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/corecashu-prometheus-XXXXXX")"
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || { say "--dir $dir is not empty"; exit 2; }
    dir="$(cd "$dir" && pwd)"
  fi
  cat >"$dir/prometheus.yml" <<EOF
# Written by scripts/prometheus.sh: one job scraping a corecashu engine's telemetry listener.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: $JOB
    metrics_path: /metrics
    static_configs:
      - targets: ["$target"]
EOF
  local attempt
  for attempt in 1 2 3 4 5; do
    local port pid
    port="$(free_port)"
    # Its own session, detached from this script; --web.listen-address on loopback only.
    setsid "$bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$port" </dev/null >>"$dir/prometheus.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/prometheus.pid"
    local status=0
    wait_ready $(($(date +%s%3N) + READY_TIMEOUT_S * 1000)) "$pid" "http://127.0.0.1:$port/-/ready" || status=$?
    if [ "$status" -eq 0 ]; then
      printf 'PROMETHEUS_URL=%s\nPROMETHEUS_DIR=%s\n' "http://127.0.0.1:$port" "$dir" >"$dir/prometheus.env"
      if [ -n "$owner" ]; then
        watch_owner "$0" "$owner" "$dir"
      fi
      echo "# $("$bin" --version 2>&1 | head -n 1) ready, scraping $target, dir $dir (stop: bash scripts/prometheus.sh stop --dir $dir)" >&2
      cat "$dir/prometheus.env"
      return 0
    fi
    if grep -qi "address already in use" "$dir/prometheus.log" 2>/dev/null; then
      say "port $port was taken before prometheus bound it (attempt $attempt); trying another"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      rm -rf "$dir/data" "$dir/prometheus.log"
      continue
    fi
    say "prometheus log (tail):"
    tail -n 20 "$dir/prometheus.log" >&2 2>/dev/null || true
    stop_dir "$dir" || true
    exit 1
  done
  say "no free port after 5 attempts"
  stop_dir "$dir" || true
  exit 1
}

case "${1:-}" in
  install)
    install
    echo "== prometheus: $("$bin" --version 2>&1 | head -n 1) ($bin)"
    ;;
  start)
    shift
    start "$@"
    ;;
  stop)
    shift
    if [ "${1:-}" = "--dir" ]; then
      stop_dir "${2:?--dir D}"
    else
      found=0
      for conf in "${TMPDIR:-/tmp}"/corecashu-prometheus-*/prometheus.yml; do
        [[ -f "$conf" && -O "$conf" ]] || continue
        stop_dir "$(dirname "$conf")" && found=$((found + 1))
      done
      echo "== prometheus: stopped $found server(s)"
    fi
    ;;
  *)
    echo "usage: bash scripts/prometheus.sh install | start --target HOST:PORT [--dir D] [--owner-pid P] | stop [--dir D]" >&2
    exit 2
    ;;
esac
