"""Open311 GeoReport v2 (the international standard for citizen service requests) mapped onto 12345's work
orders, as plain values. Pure: no database, no web.

- A **service** is a second-level category of the platform's category tree (城乡建设/住房保障…), in the group of
  its first level; its keywords are the third-level names. Its code is a short stable hash of the path, so it
  fits in a URL and survives the tree being reloaded.
- A **request** is a work order submitted by an app through the API (channel `app`); its id is the order
  number. It is `closed` once the centre has a reviewed answer for the citizen (待回访, 已回访, 已归档) or the
  order was merged into another, `open` before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from hotline.errors import InvalidInput
from hotline.workorders.domain import OrderType, State

CLOSED_STATES = frozenset({State.TO_VISIT, State.VISITED, State.ARCHIVED, State.MERGED})
DEFAULT_TYPE = OrderType.HELP  # a service request that says nothing else is a 求助
MAX_DESCRIPTION = 4000
MAX_MEDIA_URL = 1000


@dataclass(frozen=True)
class Service:
    code: str
    name: str  # the second level
    group: str  # the first level
    keywords: tuple[str, ...]  # the third level

    @property
    def category(self) -> str:
        return f"{self.group}/{self.name}"

    def to_dict(self) -> dict[str, object]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": f"{self.group}：{self.name}（{'、'.join(self.keywords)}）",
            "metadata": True,  # one attribute: the kind of demand (诉求类型)
            "type": "realtime",  # the request id is the work-order number, given at once
            "keywords": ",".join(self.keywords),
            "group": self.group,
        }


def service_code(group: str, name: str) -> str:
    return hashlib.sha1(f"{group}/{name}".encode()).hexdigest()[:8]


def services(rows: Iterable[tuple[str, str, str]]) -> list[Service]:
    """One service per (first, second) level of the category rows, in the rows' order."""
    found: dict[tuple[str, str], list[str]] = {}
    for group, name, leaf in rows:
        leaves = found.setdefault((group, name), [])
        if leaf and leaf not in leaves:
            leaves.append(leaf)
    return [Service(service_code(g, n), n, g, tuple(leaves)) for (g, n), leaves in found.items()]


def type_attribute() -> dict[str, object]:
    """The service definition's one attribute: which kind of demand it is (sets the handling time limit)."""
    return {
        "variable": True,
        "code": "type",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": f"诉求类型，默认{DEFAULT_TYPE.value}",
        "order": 1,
        "description": "诉求类型",
        "values": [{"key": t.value, "name": t.value} for t in OrderType],
    }


def status(state: State) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def check_media_url(value: str) -> str:
    """The request's `media_url` (the address of the citizen's photo) as kept, "" when none was given. Only an
    absolute http(s) URL naming a host, without spaces or control characters, at most MAX_MEDIA_URL characters:
    it is shown to staff as a link and never fetched by the platform. `open311-media-url-too-long`,
    `open311-media-url-invalid`."""
    url = value.strip()
    if not url:
        return ""
    if len(url) > MAX_MEDIA_URL:
        raise InvalidInput(f"media_url 不能超过 {MAX_MEDIA_URL} 个字符", code="open311-media-url-too-long")
    try:
        parts = urlsplit(url)
        web = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        web = False
    if not web or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput("media_url 须为 http 或 https 开头的完整网址", code="open311-media-url-invalid")
    return url
