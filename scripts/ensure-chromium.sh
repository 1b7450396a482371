#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the web app's browser tests (tests/web),
# which Python Playwright drives through `executable_path` (no browser download).
# Idempotent: a second call finds /usr/bin/chromium and installs nothing.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Chromium from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends chromium >&2
fi
command -v chromium
