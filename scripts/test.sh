#!/usr/bin/env bash
# Runs the whole test suite: unit, integration, property and doc tests of the crate and of the
# comparisons member (svix, ring, aws-lc-rs), the examples (built, and the axum one run), and the
# RedisStore tests against a real redis-server, which must be installed (.ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is missing: the RedisStore tests start real servers on loopback." >&2
    echo "Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run" >&2
    echo "bash .ci/run, which installs it on a fresh machine before running this script." >&2
    exit 1
fi

cargo test --workspace --all-features --all-targets
cargo test --workspace --all-features --doc
