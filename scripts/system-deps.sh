#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): nothing yet beyond Python.
# Later: chromium (browser tests) and postgresql (store tests).
set -euo pipefail
needed=()
for pkg in ${WORKBENCH_APT_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if ((${#needed[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}"
fi
