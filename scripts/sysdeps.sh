#!/usr/bin/env bash
# Installs the system packages Haetae needs when they are missing (Debian/Ubuntu, as root).
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libmagic.so.1' || need+=(libmagic1)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Haetae needs these system packages: ${need[*]}. Install them with your package manager and re-run." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
