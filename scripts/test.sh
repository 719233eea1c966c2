#!/usr/bin/env bash
# Runs the whole test suite: unit, integration, property and doc tests, the RedisStore tests against a
# real redis-server, and builds every example and bench. Installs what the tests need first, so it
# works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    echo "== installing redis-server (the RedisStore tests start real servers on loopback)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

cargo test --all-features --all-targets
cargo test --all-features --doc
