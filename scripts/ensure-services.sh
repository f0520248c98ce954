#!/usr/bin/env bash
# Makes sure the programs integration tests start for themselves are installed: redis-server and
# redis-cli (each test run starts its own Redis and Redis Cluster on free ports) and Chromium
# (browser tests, driven by playwright-core). Installs them from Debian's packages when missing
# and this user can; otherwise says so, and the tests that need them fail under CI=true (and skip
# locally).
set -u
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools) # forms the Redis Cluster of the cluster tests
{ command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing ${missing[*]} from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 && exit 0
fi
echo "[setup] missing: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
exit 0
