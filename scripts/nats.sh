#!/usr/bin/env bash
# NATS with JetStream (nats-server v2.15.3, built from the Go module proxy) for the JetStream event store's tests
# and for running a cluster by hand: one server or a 3-node cluster, 127.0.0.1 only, free ports, data in a temp dir.
#
#   bash scripts/nats.sh install                 build nats-server once into a per-user cache folder outside the
#                                                clone, ${CORECASHU_CACHE:-~/.cache/corecashu}/nats-server-v2.15.3
#                                                (~2-4 min on 2 cores, low priority); idempotent, instant when done
#   bash scripts/nats.sh start [--cluster 3] [--dir D] [--owner-pid P]
#                                                start one server (or a 3-node cluster: routes between the nodes,
#                                                one cluster name), each with JetStream storing under D (default: a
#                                                fresh temp dir); wait until every node answers its monitoring
#                                                endpoint /healthz; print `NATS_URL=nats://127.0.0.1:P1,…` and
#                                                `NATS_DIR=D` on stdout and return, the servers running in the
#                                                background. With --owner-pid, the servers are stopped (and D
#                                                removed) when process P exits. Never builds: without the binary it
#                                                fails at once and says how to build it
#   bash scripts/nats.sh restart-node I --dir D  start node I (1-based) of D again, same ports and store, after it
#                                                was killed; waits until it is healthy
#   bash scripts/nats.sh stop [--dir D]          stop what `start` started in D (SIGTERM, then wait; SIGKILL after
#                                                10 s) and remove D; without --dir, every such dir of this user
#
# D holds, per node I: nI/server.conf (the whole configuration: restart-node reuses it), nI/nats-server.pid,
# nI/server.log, nI/jetstream/ (the store); and nats.env (NATS_URL=…, NATS_DIR=…).
#
# Why v2.15.3 from the Go module proxy and not Debian's nats-server 2.9.10 (apt): 2.9 has what a single-writer log
# needs (expected-last-subject-sequence, Nats-Msg-Id dedupe, KV compare-and-set), but not multi-subject consumer
# filters (2.10), per-message TTL (2.11; 2.9 ignores the Nats-TTL header silently) or atomic batch publish (2.12),
# which the JetStream event store may use for a multi-event append; and 2.9 is three years of fixes behind. No npm
# package ships a server binary, so `go install` from the proxy (Go 1.26 is on the machine) is the pinned source.
#
# Settings (environment):
#   CORECASHU_CACHE                              the cache folder [${XDG_CACHE_HOME:-~/.cache}/corecashu]
#   NATS_SERVER_BIN                              use this nats-server binary instead of the cached build
#   NATS_READY_TIMEOUT [60]                      seconds to wait for every node to be healthy
#   NATS_SYNC_INTERVAL [always]                  JetStream's fsync: `always` (every write, as the LevelDB store
#                                                does per commit: a stored event survives a power cut, not only a
#                                                process kill) or a duration such as 2m (the server's default)
set -euo pipefail

NATS_VERSION="v2.15.3"
cache_base="${CORECASHU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corecashu}"
prefix="$cache_base/nats-server-$NATS_VERSION"
bin="${NATS_SERVER_BIN:-$prefix/bin/nats-server}"
READY_TIMEOUT_S="${NATS_READY_TIMEOUT:-60}"
sync_interval="${NATS_SYNC_INTERVAL:-always}"
CLUSTER_NAME="corecashu"

say() { echo "nats.sh: $*" >&2; }

binary_ready() {
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "nats-server: $NATS_VERSION"
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
  if [ -n "${NATS_SERVER_BIN:-}" ]; then
    say "NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable nats-server $NATS_VERSION"
    return 1
  fi
  mkdir -p "$cache_base"
  # One build per user and version, even when several processes ask at once: the others wait.
  exec 9>"$cache_base/nats-server-$NATS_VERSION.lock"
  flock 9
  if binary_ready; then
    exec 9>&-
    return 0
  fi
  local go
  if ! go="$(find_go)"; then
    say "Go (>= 1.24) is required to build nats-server $NATS_VERSION: https://go.dev/dl/"
    return 1
  fi
  local partial="$prefix.partial.$$"
  rm -rf "$partial"
  say "building nats-server $NATS_VERSION into $prefix (first time only, ~2-4 min on 2 cores, low priority)"
  local t0=$SECONDS
  local nicer=(nice -n 19)
  command -v ionice >/dev/null 2>&1 && nicer+=(ionice -c 3)
  # Everything Go writes (module and build caches) stays in the cache folder, nothing in the clone or in ~/go;
  # -modcacherw keeps the module cache deletable with rm -rf. GOTOOLCHAIN=local: no silent toolchain download.
  if ! (
    cd "$cache_base" &&
      GOBIN="$partial/bin" GOPATH="$cache_base/go" GOMODCACHE="$cache_base/go/pkg/mod" \
        GOCACHE="$cache_base/go/build-cache" GOFLAGS="-modcacherw" CGO_ENABLED=0 GOTOOLCHAIN=local \
        "${nicer[@]}" "$go" install -trimpath "github.com/nats-io/nats-server/v2@$NATS_VERSION" >&2
  ); then
    rm -rf "$partial"
    say "go install github.com/nats-io/nats-server/v2@$NATS_VERSION failed (see above)"
    return 1
  fi
  if ! "$partial/bin/nats-server" --version 2>/dev/null | grep -qx "nats-server: $NATS_VERSION"; then
    rm -rf "$partial"
    say "the build produced no working nats-server $NATS_VERSION"
    return 1
  fi
  rm -rf "$prefix" # a broken earlier install (binary_ready said no)
  mv -T "$partial" "$prefix"
  say "nats-server $NATS_VERSION built in $(((SECONDS - t0) / 60)) min $(((SECONDS - t0) % 60)) s"
  exec 9>&-
}

# Prints N distinct free loopback ports, one a line (all held open at once, so they differ).
free_ports() {
  N="$1" node -e '
    const net = require("node:net")
    const n = Number(process.env.N)
    const servers = []
    const next = () => {
      if (servers.length === n) {
        console.log(servers.map((s) => s.address().port).join("\n"))
        for (const s of servers) s.close()
        return
      }
      const s = net.createServer()
      s.listen(0, "127.0.0.1", () => { servers.push(s); next() })
    }
    next()
  '
}

# Waits until every monitoring URL given answers 200. The plain /healthz, not /healthz?js-enabled-only=true: the
# latter skips the meta and asset checks, so it answers before a cluster has elected its JetStream meta leader
# (creating an R3 stream then fails) and before a restarted node has caught up its streams. Exit 0 ready,
# 1 a server exited, 2 not before the deadline (last answers on stderr).
wait_healthy() {
  local deadline_ms="$1" pids="$2"
  shift 2
  # shellcheck disable=SC2016 # JavaScript, not shell
  URLS="$*" DEADLINE_MS="$deadline_ms" PIDS="$pids" node -e '
    const urls = process.env.URLS.split(" ")
    const pids = process.env.PIDS.split(" ").map(Number)
    const deadline = Number(process.env.DEADLINE_MS)
    const alive = (pid) => { try { process.kill(pid, 0); return true } catch { return false } }
    const main = async () => {
      const last = new Map()
      while (Date.now() < deadline) {
        const dead = pids.filter((p) => !alive(p))
        if (dead.length > 0) {
          console.error(`nats.sh: nats-server exited before it was ready (pid ${dead.join(", ")})`)
          return 1
        }
        const ok = await Promise.all(urls.map(async (u) => {
          try {
            const res = await fetch(u, { signal: AbortSignal.timeout(2000) })
            last.set(u, `HTTP ${res.status} ${(await res.text()).trim().slice(0, 200)}`)
            return res.status === 200
          } catch (e) {
            last.set(u, String(e?.cause?.code ?? e?.message ?? e))
            return false
          }
        }))
        if (ok.every(Boolean)) return 0
        await new Promise((r) => setTimeout(r, 100))
      }
      for (const u of urls) console.error(`nats.sh: not healthy: ${u}: ${last.get(u)}`)
      return 2
    }
    main().then((code) => process.exit(code))
  '
}

# write_config DIR I N — node I of N, ports from DIR/ports (line k: client, cluster, http of node k).
write_config() {
  local dir="$1" i="$2" n="$3"
  local node="$dir/n$i"
  mkdir -p "$node"
  local client cluster http routes=""
  read -r client cluster http <<<"$(sed -n "${i}p" "$dir/ports")"
  {
    echo "# Written by scripts/nats.sh; \`restart-node $i\` starts this node again from this file."
    echo "server_name: n$i"
    echo "listen: 127.0.0.1:$client"
    echo "http: 127.0.0.1:$http"
    echo "pid_file: \"$node/nats-server.pid\""
    echo "log_file: \"$node/server.log\""
    echo "jetstream {"
    echo "  store_dir: \"$node\"" # the server adds /jetstream
    echo "  sync_interval: $sync_interval"
    echo "}"
    if [ "$n" -gt 1 ]; then
      local k
      for k in $(seq "$n"); do
        [ "$k" -eq "$i" ] && continue
        routes="$routes    nats-route://127.0.0.1:$(sed -n "${k}p" "$dir/ports" | cut -d' ' -f2)"$'\n'
      done
      echo "cluster {"
      echo "  name: $CLUSTER_NAME"
      echo "  listen: 127.0.0.1:$cluster"
      echo "  routes: ["
      printf '%s' "$routes"
      echo "  ]"
      echo "}"
    fi
  } >"$node/server.conf"
}

# Starts node I of DIR in the background, detached from this script (its own session): prints its pid.
launch() {
  local dir="$1" i="$2"
  rm -f "$dir/n$i/nats-server.pid"
  setsid "$bin" -c "$dir/n$i/server.conf" </dev/null >>"$dir/n$i/stdout.log" 2>&1 &
  echo $!
}

healthz_url() {
  local dir="$1" i="$2"
  echo "http://127.0.0.1:$(sed -n "${i}p" "$dir/ports" | cut -d' ' -f3)/healthz"
}

node_pids() {
  local dir="$1" f
  for f in "$dir"/n*/nats-server.pid "$dir"/n*/launch.pid; do
    [ -f "$f" ] && printf '%s\n' "$(<"$f")"
  done | sort -u
}

# The pid is a nats-server of ours (not a reused pid).
is_ours() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "nats-server"
}

stop_dir() {
  local dir="$1"
  [ -f "$dir/nats.env" ] || [ -f "$dir/ports" ] || { say "$dir is not a nats.sh dir"; return 1; }
  if [ -f "$dir/watchdog.pid" ]; then
    local w
    w="$(cat "$dir/watchdog.pid")"
    # (not when the watchdog itself is stopping the servers)
    if [ "$w" != "$$" ] && [ "$w" != "${BASHPID:-}" ]; then kill "$w" 2>/dev/null || true; fi
  fi
  local pids=() pid
  for pid in $(node_pids "$dir"); do
    is_ours "$pid" && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  local _
  for _ in $(seq 100); do
    local left=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      say "nats-server $pid did not stop within 10 s of SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
  echo "== nats: stopped ${#pids[@]} server(s), removed $dir" >&2
}

start() {
  local n=1 dir="" owner=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --cluster) n="${2:?--cluster N}"; shift 2 ;;
      --dir) dir="${2:?--dir D}"; shift 2 ;;
      --owner-pid) owner="${2:?--owner-pid P}"; shift 2 ;;
      *) say "start: unknown argument $1"; exit 2 ;;
    esac
  done
  [[ "$n" =~ ^[1-9]$ ]] || { say "--cluster takes 1..9 (3 for a real cluster), not $n"; exit 2; }
  [ -z "$owner" ] || [[ "$owner" =~ ^[0-9]+$ ]] || { say "--owner-pid is not a pid: $owner"; exit 2; }
  [[ "$sync_interval" =~ ^(always|[0-9]+(ms|s|m|h))$ ]] || { say "NATS_SYNC_INTERVAL is not \`always\` or a duration: $sync_interval"; exit 2; }
  if ! binary_ready; then
    say "nats-server $NATS_VERSION is not built ($bin): run \`bash scripts/nats.sh install\` (once, ~2-4 min; scripts/test.sh does it)"
    exit 1
  fi
  if [ -z "$dir" ]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/corecashu-nats-XXXXXX")"
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || { say "--dir $dir is not empty"; exit 2; }
    dir="$(cd "$dir" && pwd)"
  fi
  local attempt i
  for attempt in 1 2 3 4 5; do
    free_ports $((3 * n)) | paste -d' ' - - - >"$dir/ports"
    local pids=() urls=() health=()
    for i in $(seq "$n"); do
      write_config "$dir" "$i" "$n"
    done
    for i in $(seq "$n"); do
      local pid
      pid="$(launch "$dir" "$i")"
      echo "$pid" >"$dir/n$i/launch.pid"
      pids+=("$pid")
      urls+=("nats://127.0.0.1:$(sed -n "${i}p" "$dir/ports" | cut -d' ' -f1)")
      health+=("$(healthz_url "$dir" "$i")")
    done
    local deadline_ms=$(($(date +%s%3N) + READY_TIMEOUT_S * 1000)) status=0
    wait_healthy "$deadline_ms" "${pids[*]}" "${health[@]}" || status=$?
    if [ "$status" -eq 0 ]; then
      local url
      url="$(IFS=,; echo "${urls[*]}")"
      printf 'NATS_URL=%s\nNATS_DIR=%s\n' "$url" "$dir" >"$dir/nats.env"
      if [ -n "$owner" ]; then
        # Stops the servers (and removes the dir) once the owner exits, even if it was killed.
        # shellcheck disable=SC2016 # expanded by the inner bash
        setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done; [ -d "$2" ] && exec bash "$0" stop --dir "$2"' \
          "$0" "$owner" "$dir" </dev/null >/dev/null 2>&1 &
        echo $! >"$dir/watchdog.pid"
      fi
      echo "# nats-server $NATS_VERSION ready: $n node(s), JetStream, dir $dir (stop: bash scripts/nats.sh stop --dir $dir)" >&2
      cat "$dir/nats.env"
      return 0
    fi
    if grep -qi "address already in use" "$dir"/n*/server.log "$dir"/n*/stdout.log 2>/dev/null; then
      say "a port was taken before nats-server bound it (attempt $attempt); trying other ports"
      for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
      sleep 0.2
      find "$dir" -mindepth 1 -delete
      continue
    fi
    for i in $(seq "$n"); do
      say "node $i log (tail):"
      tail -n 20 "$dir/n$i/server.log" "$dir/n$i/stdout.log" >&2 2>/dev/null || true
    done
    stop_dir "$dir" || true
    exit 1
  done
  say "no free ports after 5 attempts"
  stop_dir "$dir" || true
  exit 1
}

restart_node() {
  local i="" dir=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="${2:?--dir D}"; shift 2 ;;
      *) i="$1"; shift ;;
    esac
  done
  [[ -n "$dir" && -f "$dir/n$i/server.conf" ]] || { say "restart-node I --dir D: no node $i in ${dir:-?}"; exit 2; }
  binary_ready || { say "nats-server $NATS_VERSION is not built ($bin)"; exit 1; }
  local old
  while read -r old; do
    if is_ours "$old"; then
      say "node $i is still running (pid $old)"
      exit 1
    fi
  done < <(sort -u "$dir/n$i/launch.pid" "$dir/n$i/nats-server.pid" 2>/dev/null)
  local pid
  pid="$(launch "$dir" "$i")"
  echo "$pid" >"$dir/n$i/launch.pid"
  wait_healthy $(($(date +%s%3N) + READY_TIMEOUT_S * 1000)) "$pid" "$(healthz_url "$dir" "$i")" || {
    tail -n 20 "$dir/n$i/server.log" >&2 2>/dev/null || true
    exit 1
  }
  echo "# node $i restarted (pid $pid)" >&2
}

case "${1:-}" in
  install)
    install
    echo "== nats: nats-server $NATS_VERSION ready ($bin)"
    ;;
  start)
    shift
    start "$@"
    ;;
  restart-node)
    shift
    restart_node "$@"
    ;;
  stop)
    shift
    if [ "${1:-}" = "--dir" ]; then
      stop_dir "${2:?--dir D}"
    else
      found=0
      for env in "${TMPDIR:-/tmp}"/corecashu-nats-*/nats.env; do
        [[ -f "$env" && -O "$env" ]] || continue
        stop_dir "$(dirname "$env")" && found=$((found + 1))
      done
      echo "== nats: stopped $found server set(s)"
    fi
    ;;
  *)
    echo "usage: bash scripts/nats.sh install | start [--cluster 3] [--dir D] [--owner-pid P] | restart-node I --dir D | stop [--dir D]" >&2
    exit 2
    ;;
esac
