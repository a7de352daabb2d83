"""Reads the catalogue data file (`catalogue.toml`, shipped inside the package) into domain values."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from hotline.plan.domain import Catalogue, Line, Milestone, Mode, Scope


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    platform = Line(
        number=data["platform_number"],
        name=data["platform_name"],
        mode=Mode.PLATFORM,
        scope=None,
        short_name="12345热线",
    )
    emergency = tuple(
        Line(number=e["number"], name=e["name"], mode=Mode.EMERGENCY, scope=None) for e in data["emergency"]
    )
    lines = tuple(
        Line(
            number=item["number"],
            name=item["name"],
            short_name=item.get("short_name", ""),
            mode=Mode(item["mode"]),
            scope=Scope(item.get("scope", "national")),
            units=tuple(item["units"]),
        )
        for item in data["lines"]
    )
    milestones = []
    for item in data["milestones"]:
        month, day = (int(part) for part in item["date"].split("-"))
        milestones.append(
            Milestone(
                id=item["id"],
                mode=Mode(item["mode"]),
                scope=Scope(item["scope"]),
                month=month,
                day=day,
                title=item["title"],
                description=item["description"],
            )
        )
    numbers = [line.number for line in (platform, *emergency, *lines)]
    if len(numbers) != len(set(numbers)):
        raise ValueError("catalogue.toml lists a number twice")
    return Catalogue(
        platform=platform,
        emergency=emergency,
        lines=lines,
        milestones=tuple(milestones),
        shared_unit=data["shared_unit"],
        local_units=tuple(data["local_units"]),
    )


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    text = resources.files("hotline.plan").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return parse_catalogue(tomllib.loads(text))
