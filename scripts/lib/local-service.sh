# Shared by the scripts that run one helper server for the tests on loopback (scripts/prometheus.sh,
# scripts/jaeger.sh): a free port, a readiness wait, the owner watchdog and the stop of a start dir.
# Source it after setting SERVICE (the server's name, e.g. `jaeger`) and defining `say`.

# Prints a free loopback port.
free_port() {
  node -e '
    const s = require("node:net").createServer()
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })
  '
}

# Waits until URL answers 200 while PID lives. Exit 0 ready, 1 the server exited, 2 not before the deadline.
wait_ready() {
  local deadline_ms="$1" pid="$2" url="$3"
  # shellcheck disable=SC2016 # JavaScript, not shell
  URL="$url" DEADLINE_MS="$deadline_ms" PID="$pid" NAME="$SERVICE" node -e '
    const { URL: url, NAME: name } = process.env
    const pid = Number(process.env.PID)
    const deadline = Number(process.env.DEADLINE_MS)
    const alive = () => { try { process.kill(pid, 0); return true } catch { return false } }
    const main = async () => {
      let last = "no answer yet"
      while (Date.now() < deadline) {
        if (!alive()) {
          console.error(`${name}.sh: ${name} exited before it was ready (pid ${pid})`)
          return 1
        }
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
          last = `HTTP ${res.status} ${(await res.text()).trim().slice(0, 200)}`
          if (res.status === 200) return 0
        } catch (e) {
          last = String(e?.cause?.code ?? e?.message ?? e)
        }
        await new Promise((r) => setTimeout(r, 100))
      }
      console.error(`${name}.sh: not ready: ${url}: ${last}`)
      return 2
    }
    main().then((code) => process.exit(code))
  '
}

# Stops the server (and removes DIR) once process OWNER exits, even if it was killed: SCRIPT stop --dir DIR.
watch_owner() {
  local script="$1" owner="$2" dir="$3"
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done; [ -d "$2" ] && exec bash "$0" stop --dir "$2"' \
    "$script" "$owner" "$dir" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid"
}

# Stops what a start wrote into DIR and removes DIR: DIR must hold MARKER (its config file); the pid in
# DIR/$SERVICE.pid is signalled only while its command line names a config under DIR (NEEDLE, e.g.
# `--config=`), so a reused pid is never killed. SIGTERM, then SIGKILL after 10 s.
stop_dir_of() {
  local dir="$1" marker="$2" needle="$3"
  [ -f "$dir/$marker" ] || { say "$dir is not a $SERVICE.sh dir"; return 1; }
  if [ -f "$dir/watchdog.pid" ]; then
    local w
    w="$(cat "$dir/watchdog.pid")"
    # (not when the watchdog itself is stopping the server)
    if [ "$w" != "$$" ] && [ "$w" != "${BASHPID:-}" ]; then kill "$w" 2>/dev/null || true; fi
  fi
  local stopped=0 pid=""
  [ -f "$dir/$SERVICE.pid" ] && pid="$(cat "$dir/$SERVICE.pid")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle$dir/"; then
    kill -TERM "$pid" 2>/dev/null || true
    stopped=1
    local _
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$SERVICE $pid did not stop within 10 s of SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
  echo "== $SERVICE: stopped $stopped server(s), removed $dir" >&2
}
