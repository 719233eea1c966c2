#!/usr/bin/env bash
# CI: fuzz every target for a bounded time, starting from the seed corpus kept in fuzz/corpus.
#
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_JOBS       targets fuzzed at once (default: the number of CPUs, at most 2)
#   FUZZ_SANITIZER  cargo fuzz -s: address (default) or none (faster to build and to run)
#
# The seeds are copied to a scratch directory and fuzzed there: nothing is written into the
# repository. Any crash, panic, timeout or out-of-memory fails the script; its input is printed in
# base64 (reproduce with `cargo fuzz run TARGET FILE`, see fuzz/README.md). Prints per target the
# runs and executions per second from libFuzzer's final `#N DONE ... exec/s: X` line.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
cpus="$(nproc 2>/dev/null || echo 1)"
jobs="${FUZZ_JOBS:-$((cpus < 2 ? cpus : 2))}"
targets=(signature_header verify envelope parse_paths json_reader layer_body queued_delivery)
# cargo-fuzz passes sanitizer flags only nightly accepts; this lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1

started=$SECONDS
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
installed=$SECONDS

# One build for every target: the same flags for `build` and each `run`, so no run rebuilds.
flags=(-s "$sanitizer")
echo "== building the fuzz targets (release, sanitizer: $sanitizer)"
cargo fuzz build "${flags[@]}"
built=$SECONDS

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

fuzz_one() {
    local target="$1" dir="$scratch/$1"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp fuzz/corpus/"$target"/* "$dir/corpus/"
    # -timeout: one input running this long is a hang, a failure like a crash.
    cargo fuzz run "${flags[@]}" "$target" "$dir/corpus" -- \
        -max_total_time="$seconds" -timeout=20 -artifact_prefix="$dir/artifacts/" \
        >"$dir/log" 2>&1
}

echo "== fuzzing ${#targets[@]} targets for ${seconds} s each, ${jobs} at a time"
declare -A pid_of
running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz_one "$target" &
    pid_of[$target]=$!
    running=$((running + 1))
done

failed=()
printf '%-18s %12s %10s  %s\n' target runs exec/s result
for target in "${targets[@]}"; do
    status=0
    wait "${pid_of[$target]}" || status=$?
    log="$scratch/$target/log"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    runs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")"
    rate="$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")"
    if [ "$status" -eq 0 ] && [ -n "$done_line" ]; then
        printf '%-18s %12s %10s  %s\n' "$target" "$runs" "$rate" ok
    else
        printf '%-18s %12s %10s  %s\n' "$target" "${runs:--}" "${rate:--}" "FAILED (exit $status)"
        failed+=("$target")
    fi
done

for target in "${failed[@]}"; do
    echo
    echo "== $target failed; the end of its log:"
    tail -n 60 "$scratch/$target/log"
    for artifact in "$scratch/$target/artifacts"/*; do
        [ -e "$artifact" ] || continue
        echo "-- $(basename "$artifact"), base64:"
        base64 -w0 "$artifact"
        echo
    done
done

echo "== times: install $((installed - started)) s, build $((built - installed)) s, fuzz $((SECONDS - built)) s, total $((SECONDS - started)) s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]}"
    exit 1
fi
