#!/usr/bin/env bash
# Sets up a fresh machine for MigrateKit Console development: the Debian packages the tests and the
# embedded lab use, then the npm packages (which also builds the core: see "prepare").
# Safe to run again. Electron's binary is downloaded when the network allows; where it cannot be
# downloaded the install continues without it (the core, CLI, dev bridge and tests do not need it).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(chromium openssh-server nbdkit libnbd-bin qemu-utils cs xvfb)
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "apt-get not found: install ${DEBIAN_PACKAGES[*]} (or your system's equivalents) yourself." >&2
fi

if [ -z "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ]; then
  if ! npm ci --no-audit --no-fund; then
    echo "npm ci failed; retrying without the Electron binary (it could not be downloaded here)." >&2
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
  fi
else
  npm ci --no-audit --no-fund
fi
