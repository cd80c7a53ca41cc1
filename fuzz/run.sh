#!/usr/bin/env bash
# Builds and runs ferret's fuzz targets for a fixed time each, then reports per target how
# many inputs ran, the coverage reached and the crashes found.
#
# Why a script: cargo-fuzz needs nightly compiler flags (-Zsanitizer, sanitizer coverage)
# and this project has only a stable toolchain. RUSTC_BOOTSTRAP=1 lets stable rustc accept
# them; it is set for the cargo-fuzz commands below only, never for the main crate's builds.
#
# Usage: fuzz/run.sh SECONDS [TARGET...]     (targets: rules capture packet dns config; default all)
# Env:   FUZZ_SANITIZER=address|none         (default address)
#        FUZZ_BUILD_JOBS=N                   (cargo build jobs, default 1: the machine is shared)
# Exit:  0 no crash, 1 a target crashed/hung/ran out of memory, 2 usage or build error.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
all_targets=(rules capture packet dns config)

usage() {
    echo "usage: $0 SECONDS [TARGET...]   (targets: ${all_targets[*]})" >&2
    exit 2
}

[ $# -ge 1 ] || usage
seconds="$1"
shift
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target: $t" >&2; usage; }
done

sanitizer="${FUZZ_SANITIZER:-address}"
target_dir="$fuzz_dir/target"
logs="$target_dir/fuzz-logs"

# cargo-fuzz itself builds on stable; install it if this machine does not have it yet.
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked -j "${FUZZ_BUILD_JOBS:-1}"
fi

# cargo fuzz with nightly flags allowed on stable, one build job, our own target dir.
fuzz() {
    local sub="$1"
    shift
    RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS="${FUZZ_BUILD_JOBS:-1}" \
        cargo fuzz "$sub" --fuzz-dir "$fuzz_dir" --target-dir "$target_dir" --sanitizer "$sanitizer" "$@"
}

"$fuzz_dir/seed.sh"

echo "run.sh: building ${targets[*]} (sanitizer: $sanitizer)"
for t in "${targets[@]}"; do
    fuzz build "$t" || exit 2
done

# Number of crash/timeout/oom/leak files in a target's artifacts directory.
count_artifacts() {
    find "$fuzz_dir/artifacts/$1" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l
}

summary=()
failed=0
for t in "${targets[@]}"; do
    extra=()
    [ "$t" = rules ] && extra+=("-dict=$fuzz_dir/rules.dict")
    mkdir -p "$logs/$t" "$fuzz_dir/artifacts/$t"
    rm -f "$logs/$t"/fuzz-*.log
    before="$(count_artifacts "$t")"
    echo "run.sh: fuzzing $t for ${seconds}s (log: $logs/$t/fuzz-0.log)"
    # -jobs=1 runs the fuzzer in one worker process whose output goes to fuzz-0.log in the
    # current directory, hence the cd.
    status=0
    # New inputs go to corpus/ (not committed); seeds/ is the corpus kept in the repo.
    mkdir -p "$fuzz_dir/corpus/$t"
    (cd "$logs/$t" && fuzz run "$t" "$fuzz_dir/corpus/$t" "$fuzz_dir/seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -jobs=1 -print_final_stats=1 \
        "${extra[@]}") >"$logs/$t/run.log" 2>&1 || status=$?
    log="$logs/$t/fuzz-0.log"
    [ -f "$log" ] || log="$logs/$t/run.log"
    done_line="$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1 || true)"
    runs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1 || true)"
    [ -n "$runs" ] || runs="$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)"
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 || true)"
    speed="$(grep -oE 'exec/s: [0-9]+' "$log" | tail -n 1 || true)"
    after="$(count_artifacts "$t")"
    new=$((after - before))
    line="$t: runs=${runs:-?} ${cov:-cov: ?} ${speed} new_artifacts=$new (artifacts/$t: $after in all)"
    if [ "$new" -gt 0 ] || { [ "$status" -ne 0 ] && [ -z "$done_line" ]; }; then
        failed=1
        line="$line  FAILED (exit $status): see $log"
        # The panic (its message is on the line after "panicked at"), the sanitizer's verdict
        # and the artifact's path.
        grep -E -A1 '^thread .* panicked at' "$log" | head -n 4 >&2 || true
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix)' "$log" | head -n 4 >&2 || true
    fi
    echo "run.sh: $line"
    summary+=("$line")
done

echo
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
