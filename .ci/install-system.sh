#!/usr/bin/env bash
# Installs the Debian packages lipdp's test suite needs on a fresh bookworm machine:
#  - dsdp, coinor-csdp: interior-point SDP solvers used as oracles (tests fail, not skip, without them in CI)
#  - mesa-vulkan-drivers + libvulkan1 from bookworm-backports (Mesa 25): lavapipe, the software
#    Vulkan driver Dawn runs on when no GPU is present (bookworm's own Mesa is too old for Dawn)
#  - chromium: headless browser for the demo's end-to-end test
# Idempotent: skips what is already there.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
need=()
command -v dsdp5 >/dev/null || need+=(dsdp)
command -v csdp >/dev/null || need+=(coinor-csdp)
command -v chromium >/dev/null || need+=(chromium)
lvp_ok=0
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)
  case "$v" in 2[5-9].*|[3-9][0-9].*) lvp_ok=1 ;; esac
fi
if [ ${#need[@]} -eq 0 ] && [ $lvp_ok = 1 ]; then echo "system packages present"; exit 0; fi
if [ $lvp_ok = 0 ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#need[@]} -gt 0 ]; then $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; fi
if [ $lvp_ok = 0 ]; then
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
echo "system packages installed"
