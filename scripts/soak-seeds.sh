#!/usr/bin/env bash
# Runs many seeds of each seeded simulation — sync through faults, decisions and money, paper
# ballots, and the change feed read by partitions — in chunks, printing each chunk's summary, and
# for any failure the seed and the line that reproduces it. A soak, run by hand or nightly; CI runs
# a few seeds of each.
#
#   scripts/soak-seeds.sh [SEEDS] [FIRST] [CHUNK]     # default: 10000 seeds from 1, 250 a run
#   SOAK_RELEASE=1 scripts/soak-seeds.sh …            # the tests built optimised, about twice as fast
#   SOAK_ONLY=sync,ballots scripts/soak-seeds.sh …     # only these (sync, decisions, ballots, partitions),
#                                                      # e.g. to run two shells side by side on two cores
#                                                      # (each runs the built test binary itself, so the
#                                                      # two do not wait on SwiftPM's build-folder lock)
#
# Build the tests first: `swift build --build-tests`, or for SOAK_RELEASE=1
# `swift build -c release --build-tests -Xswiftc -enable-testing --scratch-path .build-soak`.
# Exits 1 if any seed failed.
set -u
configuration=()
if [[ "${SOAK_RELEASE:-}" == 1 ]]; then
    configuration=(-c release --scratch-path "${SOAK_SCRATCH:-.build-soak}")
fi
build=("${configuration[@]}" --skip-build)
seeds="${1:-10000}"
first="${2:-1}"
chunk="${3:-250}"
cd "$(dirname "$0")/.."

if ! [[ "$seeds" =~ ^[0-9]+$ && "$first" =~ ^[0-9]+$ && "$chunk" =~ ^[0-9]+$ ]] || (( seeds < 1 || chunk < 1 )); then
    echo "usage: scripts/soak-seeds.sh [SEEDS] [FIRST] [CHUNK] (whole numbers, SEEDS and CHUNK at least 1)" >&2
    exit 2
fi

# name | test filter | variable holding how many seeds one run takes | reproduction
simulations=(
    "sync|everyDeviceConvergesAndEveryMutationIsAnsweredExactlyOnce|LOCALITY_SIM_SEEDS"
    "decisions|noBudgetIsEverOverCommittedAndEveryApprovalIsAccountedFor|LOCALITY_DECISION_SIM_SEEDS"
    "ballots|exactlyOneBallotPerVoterIsCountedAndEveryDuplicateIsShownToItsCapturer|LOCALITY_BALLOT_SIM_SEEDS"
    "partitions|everyAccountReceivesExactlyWhatTheWholeFeedWouldGiveIt|LOCALITY_FEED_SEEDS"
)
only="${SOAK_ONLY:-sync,decisions,ballots,partitions}"
for name in ${only//,/ }; do
    [[ "$name" =~ ^(sync|decisions|ballots|partitions)$ ]] || { echo "SOAK_ONLY: no simulation '$name' (sync, decisions, ballots, partitions)" >&2; exit 2; }
done
# The test binary is run directly, as `swift test` runs it: SwiftPM locks the build folder for
# as long as a test run lasts, so two shells of `swift test` would take turns, not run together.
binary="$(swift build "${configuration[@]}" --show-bin-path 2>/dev/null)/LocalityPackageTests.xctest"
run_tests() {
    if [[ -x "$binary" ]]; then
        "$binary" --testing-library swift-testing --filter "$1"
    else
        swift test "${build[@]}" --filter "$1"
    fi
}
failed=0
started=$(date +%s)
for entry in "${simulations[@]}"; do
    IFS='|' read -r name filter variable <<<"$entry"
    [[ ",$only," == *",$name,"* ]] || continue
    ran=0
    for ((start = first; start < first + seeds; start += chunk)); do
        count=$(( first + seeds - start < chunk ? first + seeds - start : chunk ))
        out="$(export LOCALITY_SIM_SEED="$start" LOCALITY_SEED="$start" "$variable=$count"; run_tests "$filter" 2>&1)"
        status=$?
        out="$(sed $'s/\x1b\\[[0-9;]*m//g' <<<"$out")"  # without the colours a terminal would show
        ran=$((ran + count))
        # The simulation's own totals if it printed them, else the test run's line.
        summary="$(grep -E "simulation: [0-9]+ seeds from" <<<"$out" | head -1)"
        [[ -n "$summary" ]] || summary="$(grep -E "Test run with" <<<"$out" | head -1)"
        echo "[$name] seeds $start–$((start + count - 1)): ${summary:-no summary}"
        if (( status != 0 )); then
            failed=1
            # The simulations name a failing seed ("seed N failed"); the partition test, its argument ("seed → N").
            grep -oE "seed [0-9]+ failed: .{0,300}|seed → [0-9]+" <<<"$out" | sort -u | while read -r line; do
                seed="$(grep -oE "[0-9]+" <<<"$line" | head -1)"
                echo "  FAILED ${line}"
                echo "  rerun: LOCALITY_SIM_SEED=$seed LOCALITY_SEED=$seed $variable=1 swift test ${build[*]} --filter $filter"
            done
            grep -qE "seed [0-9]+ failed|seed → [0-9]+" <<<"$out" || { echo "  FAILED without a seed line; output follows"; tail -40 <<<"$out"; }
            # A simulation stops at its first failing seed: the rest of the chunk did not run.
            stopped="$(grep -oE "seed [0-9]+ failed" <<<"$out" | grep -oE "[0-9]+" | sort -n | head -1)"
            if [[ -n "$stopped" ]] && (( stopped < start + count - 1 )); then
                echo "  seeds $((stopped + 1))–$((start + count - 1)) did not run (the simulation stops at its first failure)"
                ran=$((ran - (start + count - 1 - stopped)))
            fi
        fi
    done
    echo "[$name] $ran seeds run"
done

echo "simulations $only: $seeds seeds each from $first in $(( $(date +%s) - started )) s; $([[ $failed == 0 ]] && echo "no failures" || echo "FAILURES above")"
exit $failed
