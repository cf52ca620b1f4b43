#!/usr/bin/env bash
# Many seeds of the three-process PostgreSQL simulation, by hand (CI runs four):
#
#   scripts/postgres-simulation.sh [FIRST] [LAST]      # default seeds 1 to 200
#
# Needs LOCALITY_TEST_POSTGRES_URL (see scripts/postgres-test-cluster.sh) and a build
# (`swift build --build-tests`). With LOCALITY_TEST_POSTGRES_DIR (the cluster's folder, as given to
# postgres-test-cluster.sh), PostgreSQL itself is restarted under the devices instead of only
# having its connections dropped (CI cannot: other suites share its cluster). Prints each seed's figures, and for a failing seed the line that
# reruns it alone; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${LOCALITY_TEST_POSTGRES_URL:?set LOCALITY_TEST_POSTGRES_URL (scripts/postgres-test-cluster.sh start prints one)}"
first="${1:-1}"
last="${2:-200}"
failed=()
if [ -n "${LOCALITY_TEST_POSTGRES_DIR:-}" ]; then
    export LOCALITY_TEST_POSTGRES_RESTART="$PWD/scripts/postgres-test-cluster.sh restart $LOCALITY_TEST_POSTGRES_DIR"
fi
for seed in $(seq "$first" "$last"); do
    out="$(LOCALITY_SEED=$seed swift test --skip-build --filter seededSchedulesConverge 2>&1)"
    echo "$out" | grep -E "^seed [0-9]+:" || true
    if echo "$out" | grep -q "recorded an issue"; then
        failed+=("$seed")
        echo "$out" | grep "recorded an issue" | head -5
        echo "  rerun: LOCALITY_SEED=$seed swift test --skip-build --filter seededSchedulesConverge"
    fi
done
echo "seeds $first to $last: ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
