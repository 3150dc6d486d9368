#!/usr/bin/env bash
# System packages the test suite needs beyond the virtualenv: Debian's Chromium (the UI test drives
# /usr/bin/chromium; playwright must never download a browser) and a PostgreSQL server (the
# deployment test starts a throwaway cluster). As root, installs what is missing with apt-get;
# otherwise stops at once, naming the packages to install. SeaweedFS comes from PyPI (the test
# extra), not from here. CHROMIUM and POSTGRES_LIB say where to look (tests point them elsewhere).
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
POSTGRES_LIB=${POSTGRES_LIB:-/usr/lib/postgresql}

missing_packages() {
  local missing=()
  [ -x "$CHROMIUM" ] || missing+=(chromium)
  # Any server version will do; Debian puts its binaries under /usr/lib/postgresql/N/bin.
  if ! compgen -G "$POSTGRES_LIB/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
    missing+=(postgresql)
  fi
  echo "${missing[@]}"
}

missing=$(missing_packages)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "The tests need system packages that are missing here: $missing." >&2
  echo "Install them (Debian or Ubuntu: sudo apt-get install -y $missing), or run make test as root." >&2
  exit 1
fi
echo "Installing the system packages the tests need: $missing" >&2
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
still=$(missing_packages)
if [ -n "$still" ]; then
  echo "apt-get installed $missing, but these are still not found: $still ($CHROMIUM, $POSTGRES_LIB/*/bin/initdb)." >&2
  exit 1
fi
