"""The ten district-level units of Bắc Giang province (2021), with their GSO codes."""

from __future__ import annotations

DISTRICTS: dict[str, str] = {
    "213": "Thành phố Bắc Giang",
    "215": "Huyện Yên Thế",
    "216": "Huyện Tân Yên",
    "217": "Huyện Lạng Giang",
    "218": "Huyện Lục Nam",
    "219": "Huyện Lục Ngạn",
    "220": "Huyện Sơn Động",
    "221": "Huyện Yên Dũng",
    "222": "Huyện Việt Yên",
    "223": "Huyện Hiệp Hòa",
}


def district_name(code: str | None) -> str:
    return DISTRICTS.get(code or "", code or "")
