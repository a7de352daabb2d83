"""Demo data for a fresh platform: each capability contributes its own, idempotently."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from hotline.db import session_scope

# Each module named here may define `load_demo(session) -> str` returning a one-line summary.
_CONTRIBUTORS = (
    "hotline.plan.service",
    "hotline.workorders.service",
    "hotline.knowledge.service",
    "hotline.dispatch.service",
    "hotline.telephony.service",
    "hotline.aggregation.service",
    "hotline.accounts.service",  # after work orders: the demo handling unit's account needs its unit
    "hotline.quality.service",  # after work orders and calls: the demo agent's orders are taken from the demo's calls
    "hotline.nuisance.service",  # 骚扰号码名单, after calls: its entries are applied for from the demo's calls
)


def load() -> Iterator[str]:
    for name in _CONTRIBUTORS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        loader = getattr(module, "load_demo", None)
        if loader is None:
            continue
        with session_scope() as session:
            yield loader(session)
