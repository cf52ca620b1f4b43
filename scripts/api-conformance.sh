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
# grants as 360Giving and validates them against the official schemas kept in the repository.
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
# Logging out would end the token the rest of the run uses; /metrics is not served by this server.
"$(dirname "$python")/schemathesis" run docs/openapi.yaml --url "$url" \
    -H "Authorization: Bearer $token" -H "Locality-Protocol: 1" \
    --exclude-path /v1/auth/logout --exclude-path /metrics \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 20261130 --no-color 2>&1 | tail -25

# Open data: the demo council's grants, validated against the official 360Giving schemas.
"$bin" publish 360giving --db "$scratch/api.sqlite" --out "$scratch/grants.json"
"$python" scripts/validate-open-data.py 360giving "$scratch/grants.json"
