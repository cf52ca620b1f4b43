#!/usr/bin/env bash
# Fuzzes every parser that takes outside input with libFuzzer and the address sanitizer.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      default: all, 1800 seconds (30 minutes) each
#   FUZZ_JOBS=2 scripts/fuzz.sh all 1800        run two targets at a time
#
# Targets: json push pabulib ons-parishes ons-divisions organisations csv money dates
# (`swift run locality-fuzz --help` says what each reads).
#
# Each target starts from its corpus in Fuzz/corpus/TARGET and grows it in
# .build-fuzz/corpus/TARGET; at the end the new inputs that add coverage are merged back into
# Fuzz/corpus/TARGET (commit them). A crash, a hang (over 30 s: the machine may be busy, so a slow input is not taken for a hang), a leak-free memory error or a
# broken round trip stops that target and leaves its input in .build-fuzz/findings/TARGET/;
# replay it with `swift run locality-fuzz TARGET FILE`, copy it into Fuzz/corpus/TARGET and
# the test suite (FuzzCorpusTests) replays it from then on. Not run in CI: run by hand or nightly.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-all}"
seconds="${2:-1800}"
jobs="${FUZZ_JOBS:-1}"
all=(json push pabulib ons-parishes ons-divisions organisations csv money dates)
if [[ "$target" == "all" ]]; then targets=("${all[@]}"); else targets=("$target"); fi
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || { echo "error: no fuzz target '$t'; choose from: all ${all[*]}" >&2; exit 2; }
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "error: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }

echo "building locality-fuzz with libFuzzer and the address sanitizer (.build-fuzz)…"
swift build -c release --scratch-path .build-fuzz --product locality-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc LOCALITY_LIBFUZZER -Xswiftc -g 2>&1 \
    | grep -Ev "^warning: 'swift-distributed-tracing'|ld.gold: warning: Cannot export local symbol" || true
binary=".build-fuzz/release/locality-fuzz"
[[ -x "$binary" ]] || { echo "error: the fuzz build failed" >&2; exit 1; }

fuzz_one() {
    local t="$1" work=".build-fuzz/corpus/$1" findings=".build-fuzz/findings/$1" log=".build-fuzz/logs/$1.log"
    mkdir -p "$work" "$findings" "$(dirname "$log")" "Fuzz/corpus/$t"
    local started=$SECONDS status=0
    LOCALITY_FUZZ_TARGET="$t" ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$binary" "$work" "Fuzz/corpus/$t" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$findings/" >"$log" 2>&1 || status=$?
    local runs; runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    local before; before=$(ls "Fuzz/corpus/$t" | wc -l)
    LOCALITY_FUZZ_TARGET="$t" ASAN_OPTIONS=detect_leaks=0 "$binary" -merge=1 "Fuzz/corpus/$t" "$work" >>"$log" 2>&1 || true
    local after; after=$(ls "Fuzz/corpus/$t" | wc -l)
    local found; found=$(ls "$findings" | wc -l)
    if [[ $status -eq 0 && $found -eq 0 ]]; then
        echo "$t: $runs inputs in $((SECONDS - started)) s, 0 crashes or hangs; corpus $before → $after files"
    else
        echo "$t: FAILED after $((SECONDS - started)) s (exit $status), $found finding(s) in $findings — see $log"
        grep -E "ERROR|SUMMARY|Fatal error|deadly signal|timeout" "$log" | head -5 | sed 's/^/    /'
        return 1
    fi
}

failed=0
running=0
for t in "${targets[@]}"; do
    echo "fuzzing $t for $seconds s…"
    if (( jobs > 1 )); then
        fuzz_one "$t" &
        running=$((running + 1))
        if (( running >= jobs )); then wait -n || failed=$((failed + 1)); running=$((running - 1)); fi
    else
        fuzz_one "$t" || failed=$((failed + 1))
    fi
done
while (( running > 0 )); do wait -n || failed=$((failed + 1)); running=$((running - 1)); done
echo "targets fuzzed: ${targets[*]}; failed: $failed"
exit $(( failed > 0 ? 1 : 0 ))
