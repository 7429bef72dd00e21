#!/usr/bin/env bash
# Static analysis beyond the linter: semgrep (PyPI, pinned) with the repository's own rules in .semgrep/, offline.
#
#   bash scripts/semgrep.sh install   install semgrep into a per-user cached virtualenv outside the clone,
#                                     ${XDG_CACHE_HOME:-~/.cache}/corecashu/semgrep-<version> (~1 min the first time);
#                                     idempotent, instant when done
#   bash scripts/semgrep.sh [check]   install if needed, test each rule against its fixtures (.semgrep/<rule>.ts:
#                                     `ruleid:` lines must be flagged, `ok:` lines must not), then scan src/ with
#                                     .semgrep/*.yml; exits non-zero on a failed rule test or any finding (the default,
#                                     and what scripts/test.sh runs)
#
# No registry rulesets, no metrics, no version check: the scan reads only local files and sends nothing. A finding
# that is not a defect is silenced on the line before it with `// nosemgrep: <rule-id>`, itself preceded by a
# comment line that says why (`grep -rn -B1 nosemgrep src` lists them all). The rules: .semgrep/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

SEMGREP_VERSION="1.185.0"
cache_base="${XDG_CACHE_HOME:-$HOME/.cache}/corecashu"
venv="$cache_base/semgrep-$SEMGREP_VERSION"
stamp="$venv/.corecashu-installed"

say() { echo "semgrep.sh: $*" >&2; }

venv_ready() {
  [ -x "$venv/bin/semgrep" ] && [ -f "$stamp" ]
}

install() {
  venv_ready && return 0
  mkdir -p "$cache_base"
  exec 9>"$cache_base/semgrep-$SEMGREP_VERSION.lock"
  flock 9
  if venv_ready; then
    exec 9>&-
    return 0
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 (>= 3.10) is required"
    return 1
  fi
  say "installing semgrep==$SEMGREP_VERSION into $venv (first time only)"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    say "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    return 1
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "semgrep==$SEMGREP_VERSION" >&2
  touch "$stamp"
  exec 9>&-
}

check() {
  install
  cd "$root"
  export SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off
  # The rules' own tests first: a rule that stopped matching would pass every scan. (semgrep test finds no
  # tests in a dot-directory by itself, so each rule file is given with its fixture.)
  local rules
  for rules in .semgrep/*.yml; do
    "$venv/bin/semgrep" test --config "$rules" "${rules%.yml}.ts" >/dev/null 2>&1 || {
      say "the rule test of $rules failed:"
      "$venv/bin/semgrep" test --config "$rules" "${rules%.yml}.ts" >&2 || true
      return 1
    }
  done
  # Offline: no metrics, no version check, local rules only.
  "$venv/bin/semgrep" scan \
    --config .semgrep/ \
    --metrics=off \
    --disable-version-check \
    --error \
    --quiet \
    --no-git-ignore \
    src
}

case "${1:-check}" in
  install) install ;;
  check) check ;;
  *)
    say "usage: bash scripts/semgrep.sh [install|check]"
    exit 2
    ;;
esac
