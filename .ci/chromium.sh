#!/usr/bin/env bash
# Chromium for the browser tests (the offline plots and Data Docs pages are opened headless).
# Called by `bash .ci/setup.sh --tests`. Installs Debian's `chromium` with apt-get when it is
# missing and this runs as root; otherwise it stops with one line saying what to install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: the browser tests need chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) and rerun" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg run to finish instead of failing on its lock (seconds).
LOCK=(-o DPkg::Lock::Timeout=600)
apt-get "${LOCK[@]}" update -q
apt-get "${LOCK[@]}" install -y -q chromium
command -v chromium >/dev/null 2>&1 || { echo "chromium.sh: apt-get installed chromium but no 'chromium' command is on PATH" >&2; exit 1; }
echo "chromium.sh: $(chromium --version 2>/dev/null || echo chromium) installed"
