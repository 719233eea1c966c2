# Shared by the load scripts; source it.

# Waits until FILE (a server's log) has a line containing TEXT: the server's own readiness
# line, not a fixed delay. Prints the log and fails after 10 seconds.
wait_for_line() {
    local file="$1" text="$2"
    for _ in $(seq 1 100); do grep -q "$text" "$file" && return 0; sleep 0.1; done
    cat "$file"
    return 1
}

# The secret the load scripts sign with and start load_server with.
SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# Fails with the apt package to install unless every named tool is on the PATH.
require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install $tool"; exit 1; }
    done
}

# Starts the release load_server (comparisons/examples) on PORT with SECRET, logging to
# WORK/server.log, sets SERVER_PID and waits for its "listening" line. It is built first, with
# the cargo arguments given (features), unless LOAD_SERVER names a build to run instead. Extra
# environment (REDIS_URL, RUST_LOG) passes through.
start_load_server() {
    [ -n "${LOAD_SERVER:-}" ] || cargo build --release -p clerk-webhooks-comparisons --example load_server -q "$@"
    CLERK_WEBHOOK_SIGNING_SECRET="$SECRET" PORT="$PORT" \
        "${LOAD_SERVER:-target/release/examples/load_server}" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_line "$WORK/server.log" listening
}
