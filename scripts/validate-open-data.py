#!/usr/bin/env python3
"""Validates a 360Giving package against the official schemas kept in the repository.

    scripts/validate-open-data.py 360giving PACKAGE.json

Exit status 0 when valid; otherwise every error is printed with its path, and the status is 1.
Needs `jsonschema` (PyPI). Runs offline: the schema's published URL maps to the local copy.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests/LocalitySyncServerTests/Fixtures/open-data"
GRANT_URL = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] != "360giving":
        print(__doc__)
        return 2
    folder = ROOT / "360giving"
    package_schema = json.loads((folder / "360-giving-package-schema.json").read_text())
    grant_schema = json.loads((folder / "360-giving-schema.json").read_text())
    # The schemas name their dialect in a form `referencing` does not detect: say it.
    grant = Resource(contents=grant_schema, specification=DRAFT202012)
    registry = Registry().with_resources([(GRANT_URL, grant), (grant_schema.get("$id", GRANT_URL), grant)])
    document = json.loads(pathlib.Path(sys.argv[2]).read_text())
    validator = jsonschema.Draft202012Validator(package_schema, registry=registry, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    for error in errors:
        print(f"{'/'.join(str(part) for part in error.absolute_path) or '(package)'}: {error.message[:300]}")
    grants = len(document.get("grants", []))
    print(f"360Giving: {grants} grants, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
