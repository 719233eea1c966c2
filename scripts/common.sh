# Shared by the load scripts; source it.

# Waits until FILE (a server's log) has a line containing TEXT: the server's own readiness
# line, not a fixed delay. Prints the log and fails after 10 seconds.
wait_for_line() {
    local file="$1" text="$2"
    for _ in $(seq 1 100); do grep -q "$text" "$file" && return 0; sleep 0.1; done
    cat "$file"
    return 1
}
