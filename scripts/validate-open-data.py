#!/usr/bin/env python3
"""Validates Locality's open data against the official schemas kept in the repository.

    scripts/validate-open-data.py 360giving PACKAGE.json
    scripts/validate-open-data.py ocds RELEASE-PACKAGE.json

Exit status 0 when valid; otherwise every error is printed with its path, and the status is 1.
Needs `jsonschema` (PyPI). Runs offline: the schema's published URL maps to the local copy.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests/LocalitySyncServerTests/Fixtures/open-data"
GRANT_URL = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"
RELEASE_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def report(errors) -> None:
    for error in sorted(errors, key=lambda error: [str(part) for part in error.absolute_path]):
        print(f"{'/'.join(str(part) for part in error.absolute_path) or '(package)'}: {error.message[:300]}")


def ocds(path: str) -> int:
    """OCDS 1.1.5: the release package schema (draft 4, closed codelists as enums), then what the
    schema cannot say: unique release ids, tags from the codelist, parties referred to exist."""
    folder = ROOT / "ocds"
    package_schema = json.loads((folder / "release-package-schema.json").read_text())
    release_schema = json.loads((folder / "release-schema.json").read_text())
    release = Resource(contents=release_schema, specification=DRAFT4)
    registry = Registry().with_resources([(RELEASE_URL, release), (release_schema.get("id", RELEASE_URL), release)])
    document = json.loads(pathlib.Path(path).read_text())
    validator = jsonschema.Draft4Validator(package_schema, registry=registry, format_checker=jsonschema.FormatChecker())
    errors = list(validator.iter_errors(document))
    report(errors)
    problems = 0
    tags = {row.split(",")[0] for row in (folder / "codelists/releaseTag.csv").read_text().splitlines()[1:]}
    roles = {row.split(",")[0] for row in (folder / "codelists/partyRole.csv").read_text().splitlines()[1:]}
    seen = set()
    for index, item in enumerate(document.get("releases", [])):
        key = (item.get("ocid"), item.get("id"))
        if key in seen:
            print(f"releases/{index}: release id {key[1]} is used twice in {key[0]}")
            problems += 1
        seen.add(key)
        for tag in item.get("tag", []):
            if tag not in tags:
                print(f"releases/{index}/tag: '{tag}' is not in the releaseTag codelist")
                problems += 1
        parties = {party.get("id") for party in item.get("parties", [])}
        for party in item.get("parties", []):
            for role in party.get("roles", []):
                if role not in roles:
                    print(f"releases/{index}/parties: role '{role}' is not in the partyRole codelist")
                    problems += 1
        references = [item.get("buyer", {})] + item.get("tender", {}).get("tenderers", [])
        for award in item.get("awards", []):
            references += award.get("suppliers", [])
        for reference in references:
            if reference and reference.get("id") not in parties:
                print(f"releases/{index}: {reference.get('id')} is referred to but not among the parties")
                problems += 1
    releases = document.get("releases", [])
    processes = len({item.get("ocid") for item in releases})
    print(f"OCDS: {len(releases)} releases of {processes} contracting processes, {len(errors) + problems} errors")
    return 1 if errors or problems else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "ocds":
        return ocds(sys.argv[2])
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
    errors = list(validator.iter_errors(document))
    report(errors)
    grants = len(document.get("grants", []))
    print(f"360Giving: {grants} grants, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
