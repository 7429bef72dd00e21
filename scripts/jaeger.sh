#!/usr/bin/env bash
# Jaeger v2 (`github.com/jaegertracing/jaeger/cmd/jaeger`: an OpenTelemetry collector distribution with an
# in-memory trace store and a query API) as the real OTLP receiver of the tracing test (issue #15): the engine
# exports spans over OTLP/HTTP, the test reads them back through Jaeger's HTTP query API. Loopback only, free
# ports.
#
#   bash scripts/jaeger.sh install               build jaeger once per user into
#                                                ${CORECASHU_CACHE:-~/.cache/corecashu}/jaeger-<version> from the
#                                                Go module proxy (a tool module: `go get -tool`, then `go build`;
#                                                several minutes on 2 cores the first time, low priority);
#                                                instant when built
#   bash scripts/jaeger.sh start [--dir D] [--owner-pid P]
#                                                write D/jaeger.yaml (OTLP/HTTP receiver, memory store, query
#                                                API, health check, each on a free loopback port; nothing else
#                                                listens), start jaeger, wait until its query API answers, print
#                                                `JAEGER_OTLP_URL=http://127.0.0.1:P/v1/traces`,
#                                                `JAEGER_QUERY_URL=http://127.0.0.1:Q` and `JAEGER_DIR=D`.
#                                                With --owner-pid, jaeger stops (and D is removed) when P exits
#   bash scripts/jaeger.sh stop [--dir D]        stop it and remove D; without --dir, every such dir of this user
#
# Why Jaeger: it is an OTLP receiver that builds from the Go module proxy here as a program (the OpenTelemetry
# collector's own `otelcorecol` module carries replace directives that `go install` refuses), and it answers
# queries, so a test sees the spans that arrived rather than only that a POST was accepted.
set -euo pipefail

JAEGER_VERSION="v1.75.0"
cache_base="${CORECASHU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corecashu}"
prefix="$cache_base/jaeger-$JAEGER_VERSION"
bin="${JAEGER_BIN:-$prefix/bin/jaeger}"
READY_TIMEOUT_S="${JAEGER_READY_TIMEOUT:-60}"

say() { echo "jaeger.sh: $*" >&2; }

SERVICE=jaeger
# shellcheck source=scripts/lib/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-service.sh"

binary_ready() {
  [ -x "$bin" ] && "$bin" version >/dev/null 2>&1
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

install() {
  binary_ready && return 0
  if [ -n "${JAEGER_BIN:-}" ]; then
    say "JAEGER_BIN=$JAEGER_BIN is not an executable jaeger"
    return 1
  fi
  mkdir -p "$cache_base"
  # One build per user and version, even when several processes ask at once: the others wait.
  exec 9>"$cache_base/jaeger-$JAEGER_VERSION.lock"
  flock 9
  if binary_ready; then
    exec 9>&-
    return 0
  fi
  local go
  if ! go="$(find_go)"; then
    say "Go (>= 1.24) is required to build jaeger $JAEGER_VERSION"
    return 1
  fi
  local partial="$prefix.partial.$$"
  rm -rf "$partial"
  mkdir -p "$partial/module" "$partial/bin"
  printf 'module corecashu.local/jaeger-build\n\ngo 1.24\n' >"$partial/module/go.mod"
  say "building jaeger $JAEGER_VERSION into $prefix (first time only, several minutes on 2 cores, low priority)"
  local t0=$SECONDS
  local nicer=(nice -n 19)
  command -v ionice >/dev/null 2>&1 && nicer+=(ionice -c 3)
  # Module and build caches stay in the cache folder (shared with nats.sh), nothing in the clone or in ~/go.
  if ! (
    cd "$partial/module" &&
      export GOPATH="$cache_base/go" GOMODCACHE="$cache_base/go/pkg/mod" GOCACHE="$cache_base/go/build-cache" \
        GOFLAGS="-modcacherw" CGO_ENABLED=0 GOTOOLCHAIN=local &&
      "${nicer[@]}" "$go" get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" >&2 &&
      "${nicer[@]}" "$go" build -trimpath -o "$partial/bin/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger >&2
  ); then
    rm -rf "$partial"
    say "building jaeger $JAEGER_VERSION failed (see above)"
    return 1
  fi
  rm -rf "$prefix"
  mv -T "$partial" "$prefix"
  binary_ready || { say "the build produced no working jaeger"; return 1; }
  say "jaeger $JAEGER_VERSION built in $(((SECONDS - t0) / 60)) min $(((SECONDS - t0) % 60)) s"
  exec 9>&-
}

stop_dir() {
  stop_dir_of "$1" jaeger.yaml "--config="
}

# D/jaeger.yaml: OTLP/HTTP on $2, the query API on $3, the health check on $4; traces in memory.
write_config() {
  local dir="$1" otlp="$2" query="$3" health="$4"
  cat >"$dir/jaeger.yaml" <<YAML
# Written by scripts/jaeger.sh: OTLP/HTTP in, memory store, query API out; loopback only.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:$health
  jaeger_query:
    # Its own tracing off: it would export to localhost:4317 and, with nothing there, hold every shutdown
    # for the exporter's 10 s timeout.
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$query
    grpc:
      endpoint: 127.0.0.1:0
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$otlp
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
YAML
}

start() {
  local dir="" owner=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="${2:?--dir D}"; shift 2 ;;
      --owner-pid) owner="${2:?--owner-pid P}"; shift 2 ;;
      *) say "start: unknown argument $1"; exit 2 ;;
    esac
  done
  [ -z "$owner" ] || [[ "$owner" =~ ^[0-9]+$ ]] || { say "--owner-pid is not a pid: $owner"; exit 2; }
  if ! binary_ready; then
    say "jaeger $JAEGER_VERSION is not built ($bin): run \`bash scripts/jaeger.sh install\` (once; scripts/test.sh does it)"
    exit 1
  fi
  if [ -z "$dir" ]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/corecashu-jaeger-XXXXXX")"
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || { say "--dir $dir is not empty"; exit 2; }
    dir="$(cd "$dir" && pwd)"
  fi
  local attempt
  for attempt in 1 2 3 4 5; do
    local otlp query health pid
    otlp="$(free_port)"
    query="$(free_port)"
    health="$(free_port)"
    write_config "$dir" "$otlp" "$query" "$health"
    setsid "$bin" --config="$dir/jaeger.yaml" </dev/null >>"$dir/jaeger.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/jaeger.pid"
    local status=0
    wait_ready $(($(date +%s%3N) + READY_TIMEOUT_S * 1000)) "$pid" "http://127.0.0.1:$query/api/services" || status=$?
    if [ "$status" -eq 0 ]; then
      printf 'JAEGER_OTLP_URL=%s\nJAEGER_QUERY_URL=%s\nJAEGER_DIR=%s\n' \
        "http://127.0.0.1:$otlp/v1/traces" "http://127.0.0.1:$query" "$dir" >"$dir/jaeger.env"
      if [ -n "$owner" ]; then
        watch_owner "$0" "$owner" "$dir"
      fi
      echo "# jaeger $JAEGER_VERSION ready, dir $dir (stop: bash scripts/jaeger.sh stop --dir $dir)" >&2
      cat "$dir/jaeger.env"
      return 0
    fi
    if grep -qi "address already in use" "$dir/jaeger.log" 2>/dev/null; then
      say "a port was taken before jaeger bound it (attempt $attempt); trying others"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      rm -f "$dir/jaeger.log"
      continue
    fi
    say "jaeger log (tail):"
    tail -n 30 "$dir/jaeger.log" >&2 2>/dev/null || true
    stop_dir "$dir" || true
    exit 1
  done
  say "no free ports after 5 attempts"
  stop_dir "$dir" || true
  exit 1
}

case "${1:-}" in
  install)
    install
    echo "== jaeger: $JAEGER_VERSION ready ($bin)"
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
      for conf in "${TMPDIR:-/tmp}"/corecashu-jaeger-*/jaeger.yaml; do
        [[ -f "$conf" && -O "$conf" ]] || continue
        stop_dir "$(dirname "$conf")" && found=$((found + 1))
      done
      echo "== jaeger: stopped $found server(s)"
    fi
    ;;
  *)
    echo "usage: bash scripts/jaeger.sh install | start [--dir D] [--owner-pid P] | stop [--dir D]" >&2
    exit 2
    ;;
esac
