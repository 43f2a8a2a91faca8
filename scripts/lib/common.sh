# Shared helpers for scripts/: logging, dependency installation, release builds.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root for: $*"; return 1; fi
}

# Debian's redis packages and PyPI's redis + pytest + prometheus_client (its text-format parser checks
# /metrics), only when absent. A policy-rc.d that denies
# service starts keeps the package scripts from launching the distro's redis on 6379/26379.
install_test_dependencies() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
  command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || missing+=(redis-tools)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (Debian)"
    local created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
      as_root chmod +x /usr/sbin/policy-rc.d
      created_policy=1
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      redis-server redis-sentinel redis-tools >/dev/null
    ((created_policy)) && as_root rm -f /usr/sbin/policy-rc.d
    # Belt and braces: if a service got started anyway, stop it so our tests own the machine.
    as_root service redis-server stop >/dev/null 2>&1 || true
    as_root service redis-sentinel stop >/dev/null 2>&1 || true
  fi
  if ! python3 -c 'import redis, pytest, prometheus_client' >/dev/null 2>&1; then
    log "installing redis, pytest and prometheus_client (PyPI)"
    python3 -m pip install -q redis pytest prometheus_client 2>&1 | grep -v 'Running pip as the' || true
  fi
}

# Release build with the Swift runtime linked statically: the binaries need only libc & co.
build_release() {
  swift build -c release --static-swift-stdlib --product vigil-node >/dev/null
  swift build -c release --static-swift-stdlib --product vigil-sentinel >/dev/null
}

release_bin_dir() { swift build -c release --static-swift-stdlib --show-bin-path; }
