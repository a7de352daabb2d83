"""Dispatch advice (派单建议) attached to a new order, from `hotline.dispatch.service.advise` when installed.

Advice is a help for the dispatcher, never a condition for taking the order: if the dispatch capability is
absent, or fails, the order is still created and the failure is reported next to it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.errors import HotlineError

log = logging.getLogger(__name__)


def _advise_function() -> Callable[..., dict[str, Any]] | None:
    try:
        module = importlib.import_module("hotline.dispatch.service")
    except ModuleNotFoundError as exc:
        if exc.name == "hotline.dispatch.service":
            return None
        log.exception("dispatch advice unavailable")
        return None
    except Exception:  # a broken optional capability must not stop orders being taken
        log.exception("dispatch advice unavailable")
        return None
    found = getattr(module, "advise", None)
    return found if callable(found) else None


def advise_for(
    session: Session,
    *,
    text: str,
    region_code: str,
    line: str | None,
    phone: str,
    place: str,
    at: datetime | None,
    exclude: str | None = None,
) -> dict[str, Any] | None:
    """The dispatch helper's advice, or None when it is not installed; `{"error": code}` when it failed.

    EXCLUDE names a stored order left out of the repeat candidates (advising on that order itself)."""
    advise = _advise_function()
    if advise is None:
        return None
    more = {"exclude": exclude} if exclude is not None else {}
    try:
        # A savepoint: a failing query inside the advice must not spoil the caller's transaction.
        with session.begin_nested():
            return advise(
                session, text=text, region_code=region_code, line=line, phone=phone, place=place, at=at, **more
            )
    except HotlineError as exc:
        return {"error": exc.code, "message": exc.message}
    except Exception:  # advice is optional; taking the order must not depend on it
        log.exception("dispatch advice failed")
        return {"error": "advice-failed", "message": "派单建议暂不可用"}
