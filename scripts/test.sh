#!/usr/bin/env bash
# Runs the whole test suite: unit, integration, property and doc tests of the crate and of the
# comparisons member (svix, ring, aws-lc-rs), the examples (built, and the axum one run), and the
# RedisStore and queue tests against a real redis-server, and the database sync tests against a
# throwaway PostgreSQL cluster and SQLite files.
#
# The tests start their own throwaway servers on loopback; this script installs the server
# packages they need when they are missing and it can (as root, or with sudo, through apt-get),
# and otherwise stops and says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
needed=(redis-server:redis-server)
missing=()
for entry in "${needed[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
# Debian keeps PostgreSQL's server programs off the PATH, in /usr/lib/postgresql/VERSION/bin.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
        echo "== installing ${missing[*]} (the tests start real servers on loopback)"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "The tests need ${missing[*]} on the PATH (they start throwaway servers on loopback)." >&2
        echo "Install it, then run this script again:" >&2
        echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
        echo "  macOS:         brew install redis postgresql" >&2
        exit 1
    fi
fi

# Every test binary runs, whatever fails first, and the failures are listed at the end; the doc
# tests run even when a binary failed, and the script fails if either did.
status=0
cargo test --workspace --all-features --all-targets --no-fail-fast || status=$?
cargo test --workspace --all-features --doc --no-fail-fast || status=$?
exit "$status"
