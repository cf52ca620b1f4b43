#!/usr/bin/env python3
"""The Open Contracting Partnership's data review (libcoveocds, from PyPI) on an OCDS release
package, offline.

    scripts/cove-ocds.py RELEASE-PACKAGE.json

libcoveocds downloads the standard's repository as a ZIP; here the ZIP is built from the OCDS
1.1.5 schemas and codelists kept in the repository (the versioned release schema it also needs is
derived from the release schema by ocdsextensionregistry, as the standard's own build does), and
given to it with --standard-zip. Prints what it reports — validation errors, additional fields,
codelist values outside closed and open codelists, its additional checks — and exits 1 on any
validation error or closed-codelist value, 0 otherwise (additional fields are reported, not
fatal: Locality adds `planning.optionsAppraisal`), 2 when it could not run.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

from ocdsextensionregistry.versioned_release_schema import get_versioned_release_schema

OCDS = pathlib.Path(__file__).resolve().parent.parent / "Tests/LocalitySyncServerTests/Fixtures/open-data/ocds"
TAG = "1__1__5"


def standard_zip(folder: pathlib.Path) -> pathlib.Path:
    path = folder / "standard.zip"
    top = f"standard-{TAG}/"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(top, "")
        archive.writestr(top + "schema/", "")
        for name in ("release-schema.json", "release-package-schema.json"):
            archive.write(OCDS / name, top + "schema/" + name)
        release = json.loads((OCDS / "release-schema.json").read_text())
        archive.writestr(top + "schema/versioned-release-validation-schema.json", json.dumps(get_versioned_release_schema(release, TAG)))
        archive.writestr(top + "schema/codelists/", "")
        for codelist in sorted((OCDS / "codelists").iterdir()):
            archive.write(codelist, top + "schema/codelists/" + codelist.name)
    return path


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        folder = pathlib.Path(scratch)
        cove = pathlib.Path(sys.executable).parent / "libcoveocds"
        run = subprocess.run(
            [str(cove), "--standard-zip", str(standard_zip(folder)), sys.argv[1]],
            capture_output=True, text=True, env={**os.environ, "NO_PROXY": "*"}, timeout=600,
        )
        if run.returncode != 0:
            print("libcoveocds could not run:\n" + run.stderr[-2000:])
            return 2
        report = json.loads(run.stdout)
    errors = report.get("validation_errors") or []
    for error in errors:
        print(f"validation error: {json.dumps(error)[:400]}")
    closed = report.get("additional_closed_codelist_values") or {}
    for path, detail in closed.items():
        print(f"closed codelist: {path}: {json.dumps(detail)[:300]}")
    for path, detail in (report.get("additional_open_codelist_values") or {}).items():
        print(f"open codelist, value not in it: {path}: {json.dumps(detail)[:300]}")
    additional = report.get("additional_fields") or []
    for field in additional:
        where = f"{field.get('path', '')}/{field.get('field', '')}" if isinstance(field, dict) else str(field)
        print(f"additional field (not fatal): {where}")
    for check, found in (report.get("additional_checks") or {}).items():
        print(f"additional check {check}: {json.dumps(found)[:300]}")
    print(
        f"libcoveocds: {report.get('count', '?')} releases, {report.get('unique_ocids_count', '?')} processes; "
        f"{len(errors)} validation errors, {len(closed)} closed-codelist problems, {len(additional)} additional fields"
    )
    return 1 if errors or closed else 0


if __name__ == "__main__":
    sys.exit(main())
