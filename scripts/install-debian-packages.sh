#!/usr/bin/env bash
# Install the Debian packages given as arguments when they are missing.
# Idempotent: prints nothing and changes nothing when all are present.
set -euo pipefail
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "error: Debian packages ${missing[*]} are missing and this user cannot install them." >&2
    echo "       Ask an administrator to run: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
