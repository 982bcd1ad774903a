#!/bin/sh
# Headless Debian chromium for the HTML report tests (tests/test_reports_html.py). Idempotent:
# does nothing when chromium is already on PATH. Needs root and the Debian apt mirror only
# (Playwright's browser download is not reachable from CI).
set -eu
if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(chromium --version 2>/dev/null || true)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
