#!/usr/bin/env bash
# Installs the system packages the tests need (Debian), only those missing:
#   postgresql - the store tests run against a real server (started on 127.0.0.1 by the tests)
#   chromium   - the app tests drive a real browser through Playwright
#   fonts-wqy-zenhei - Chinese glyphs in that browser (screenshots of zh screens)
#   nginx      - two app servers behind it in tests/test_deploy.py (run unprivileged, in the foreground, on
#                127.0.0.1; a service the package may start is stopped again below)
# Override the list with WORKBENCH_APT_PACKAGES="...".
set -euo pipefail
needed=()
for pkg in ${WORKBENCH_APT_PACKAGES-postgresql chromium fonts-wqy-zenhei nginx}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if ((${#needed[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${needed[@]}"
  if [[ " ${needed[*]} " == *" nginx "* ]]; then  # installed just now for the tests: no site on port 80
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
  fi
fi
