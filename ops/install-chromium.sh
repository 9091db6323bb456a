#!/bin/sh
# Headless Chromium and its WebDriver from the system's packages, for `make test-ui` (tests/test_ui_browser.py).
set -e
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver (Debian/Ubuntu packages)"
    $SUDO apt-get install -y --no-install-recommends chromium chromium-driver \
        || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends chromium chromium-driver; }
else
    echo "no apt-get: install Chromium and chromedriver with this system's package manager" >&2
    exit 1
fi
