"""Sichuan's regions: the provincial centre and the 21 市（州）, with their administrative division codes."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.errors import NotFound


@dataclass(frozen=True)
class Region:
    code: str
    name: str


PROVINCE = Region("510000", "四川省")

REGIONS: tuple[Region, ...] = (
    PROVINCE,
    Region("510100", "成都市"),
    Region("510300", "自贡市"),
    Region("510400", "攀枝花市"),
    Region("510500", "泸州市"),
    Region("510600", "德阳市"),
    Region("510700", "绵阳市"),
    Region("510800", "广元市"),
    Region("510900", "遂宁市"),
    Region("511000", "内江市"),
    Region("511100", "乐山市"),
    Region("511300", "南充市"),
    Region("511400", "眉山市"),
    Region("511500", "宜宾市"),
    Region("511600", "广安市"),
    Region("511700", "达州市"),
    Region("511800", "雅安市"),
    Region("511900", "巴中市"),
    Region("512000", "资阳市"),
    Region("513200", "阿坝藏族羌族自治州"),
    Region("513300", "甘孜藏族自治州"),
    Region("513400", "凉山彝族自治州"),
)

_BY_KEY: dict[str, Region] = {}
for _r in REGIONS:
    _BY_KEY[_r.code] = _r
    _BY_KEY[_r.name] = _r
# The provincial centre is also called by these names.
for _alias in ("省本级", "省级", "省中心", "province"):
    _BY_KEY[_alias] = PROVINCE


def find_region(key: str) -> Region:
    """A region by code, Chinese name or alias; raises `region-not-found`."""
    region = _BY_KEY.get(key.strip())
    if region is None:
        raise NotFound(f"未知地区：{key}", code="region-not-found")
    return region


CITY_DIGITS = 4  # a 区（县） code is its 市（州）'s first four digits and two of its own (510107 in 成都市 510100)


def city_code(code: str) -> str:
    """The 市（州） a region code lies in: a 区（县）'s (510107 → 510100); a 市（州）'s or the province's own code. The
    province holds no 区（县） of its own: only its own code gives 510000."""
    return code[:CITY_DIGITS] + "00"


def region_name(code: str) -> str:
    """The name of the region with CODE, or CODE itself for one the catalogue does not name (as an old record
    may hold): for exports and reports, which show what they hold rather than fail."""
    region = _BY_KEY.get(code.strip())
    return region.name if region is not None else code
