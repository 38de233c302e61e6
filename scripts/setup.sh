#!/usr/bin/env bash
# Installs what memfarm needs on Debian or Ubuntu, then builds it. Safe to run
# again: it installs only what is missing, and reinstalls node modules only
# when package-lock.json changed.
#   system packages (apt): nats-server; chromium (Debian's, for the dashboard's browser
#     tests; never a downloaded browser); openssh-server (the hosts-over-SSH tests run a real sshd);
#     python3 with CPython's test package
#     (libpython3.X-testsuite) for the demo and the tests; make, g++ to build
#     better-sqlite3 when no prebuilt binary can be downloaded
#   node modules: from the lock file
#   Only with --for-tests (npm test): chromium and openssh-server, which the
#     farm itself never needs (and Debian starts sshd as a service on install).
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=""
for arg in "$@"; do
  case "$arg" in
    --for-tests) for_tests=1 ;;
    *) printf 'setup: unknown option %s (the only one is --for-tests)\n' "$arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "memfarm needs Node >= 20; this is $(node --version)"
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    say "not root and no sudo: install the missing packages by hand"; fi
fi
apt_updated=""
apt_install() {
  [ $# -eq 0 ] && return 0
  say "installing with apt: $*"
  # Wait for another apt/dpkg (unattended-upgrades, an image build) instead of dying on its lock.
  if [ -z "$apt_updated" ]; then $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
if [ -n "$for_tests" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
fi
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
apt_install "${missing[@]}"

# Debian splits CPython's own tests (test_bigmem, ...) into libpython3.X-testsuite.
if ! /usr/bin/python3 -c 'import test.libregrtest, test.test_bigmem' 2>/dev/null; then
  version=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  apt_install "libpython${version}-testsuite"
fi

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.memfarm-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  say "installing node modules from package-lock.json"
  # npm install, not npm ci: the lock holds only the platform binaries of
  # optional packages (Biome's) that the registry served, and npm ci refuses a
  # lock without the others. npm install follows the lock and leaves it unchanged.
  npm install --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.memfarm-lock-hash
fi

# Rebuild only when a source is newer than the last build's stamp, and never
# remove dist: a farm or a CLI command may be running from it right now.
stamp=dist/.memfarm-build-stamp
if [ -f "$stamp" ] && [ -z "$(find protocol coordinator agent cli test bench views jobs scripts \
    tsconfig.json package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  say "build is up to date"
  exit 0
fi
say "building"
npx tsc -p tsconfig.json
# The single-file agent that `memfarm hosts add` uploads.
node scripts/bundle-agent.mjs
touch "$stamp"
