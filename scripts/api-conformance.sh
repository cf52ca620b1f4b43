#!/usr/bin/env bash
# The sync API against its OpenAPI document, with tools nobody here wrote: the document is
# validated (openapi-spec-validator), then schemathesis drives a live demo server with an
# authenticated token through every operation and fails on any 5xx, an undocumented status, a
# wrong content type or a body the document does not allow.
#
#   scripts/api-conformance.sh [PYTHON] [MAX_EXAMPLES]
#
# PYTHON is a Python with openapi-spec-validator, schemathesis and jsonschema (default: python3);
# run after a build (it uses .build/debug/locality-sync). It then publishes the demo council's
# grants as 360Giving and its commissions as OCDS and validates them against the official schemas
# kept in the repository (and the OCDS with libcoveocds, the standard's own data review), and
# checks every public page in headless Chromium with axe-core (scripts/accessibility-check.py;
# needs selenium, axe-selenium-python and Debian's chromium and chromium-driver; skipped with a
# note when they are missing, unless LOCALITY_REQUIRE_BROWSER=1, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3}"
examples="${2:-100}"
bin=".build/debug/locality-sync"
scratch="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$scratch"' EXIT

"$python" -m openapi_spec_validator docs/openapi.yaml
"$bin" serve --demo --db "$scratch/api.sqlite" --port 0 > "$scratch/server.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do
    port="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$scratch/server.log" | grep -o '[0-9]*$' || true)"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "${port:-}" ] || { echo "the demo server did not start:"; cat "$scratch/server.log"; exit 1; }
url="http://127.0.0.1:$port"
token="$("$python" - "$url" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(
    sys.argv[1] + "/v1/auth/login", method="POST",
    data=json.dumps({"username": "officer", "password": "demo-password", "deviceId": "01a22b64-ef64-7fee-a28b-e7a2234fbde9"}).encode(),
    headers={"Content-Type": "application/json", "Locality-Protocol": "1"})
print(json.load(urllib.request.urlopen(request))["token"])
PY
)"
# A residents' vote run to its count through the terminal client, so that the published Pabulib
# file and the vote's public page are checked below as well.
client=".build/debug/locality"
for person in officer resident-south; do
    echo demo-password | "$client" --home "$scratch/$person" login --server "$url" --user "$person" --password-stdin >/dev/null
done
"$client" --home "$scratch/officer" vote open "Ledwyche: You Decide 2026/27" --title "Ledwyche: You Decide" \
    --rule mes-add1-greedy --amount 10000 --opens today --closes today --all-submitted --max 3 >/dev/null
"$client" --home "$scratch/officer" sync >/dev/null
"$client" --home "$scratch/resident-south" sync >/dev/null
"$client" --home "$scratch/resident-south" vote cast "Ledwyche: You Decide" --choose 1 --choose 3 >/dev/null
"$client" --home "$scratch/resident-south" sync >/dev/null
"$client" --home "$scratch/officer" vote close "Ledwyche: You Decide" >/dev/null
"$client" --home "$scratch/officer" sync >/dev/null

# Logging out would end the token the rest of the run uses; /metrics is not served by this server.
"$(dirname "$python")/schemathesis" run docs/openapi.yaml --url "$url" \
    -H "Authorization: Bearer $token" -H "Locality-Protocol: 1" \
    --exclude-path /v1/auth/logout --exclude-path /metrics \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 20261130 --no-color 2>&1 | tail -25

# Open data: the demo council's grants, validated against the official 360Giving schemas.
"$bin" publish 360giving --db "$scratch/api.sqlite" --out "$scratch/grants.json"
"$python" scripts/validate-open-data.py 360giving "$scratch/grants.json"

# The demo council's commissions as OCDS: the official schema and codelists, then libcoveocds.
"$bin" publish ocds --db "$scratch/api.sqlite" --out "$scratch/ocds.json"
"$python" scripts/validate-open-data.py ocds "$scratch/ocds.json"
if "$python" -c "import libcoveocds" >/dev/null 2>&1; then
    "$python" scripts/cove-ocds.py "$scratch/ocds.json"
else
    echo "libcoveocds is not installed: the OCDS data review was skipped"
fi

# Closed votes as Pabulib files, read back by pabutools when it is installed.
"$bin" publish votes --db "$scratch/api.sqlite" --out-dir "$scratch/pabulib"
if "$python" -c "import pabutools" >/dev/null 2>&1; then
    for file in "$scratch"/pabulib/*.pb; do
        "$python" -c "import sys; from pabutools.election import parse_pabulib; i, p = parse_pabulib(sys.argv[1]); print(f'pabutools read {sys.argv[1].rsplit(\"/\", 1)[-1]}: {len(i)} projects, {len(p)} ballots')" "$file"
    done
fi

# Every public page, at phone and desktop width, in a real browser.
if "$python" -c "import selenium, axe_selenium_python" >/dev/null 2>&1 && command -v chromedriver >/dev/null; then
    "$python" scripts/accessibility-check.py "$url" .build/accessibility
elif [ "${LOCALITY_REQUIRE_BROWSER:-0}" = "1" ]; then
    echo "the accessibility check needs chromium, chromium-driver, selenium and axe-selenium-python"; exit 1
else
    echo "no browser here: the accessibility check was skipped"
fi
