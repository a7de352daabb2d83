"""The dispatch helper's suggestion on the order page (/orders/{number}): category, confidence and handling unit
above the 派单 form, which it prefills, and the open orders that may be the same demand (疑似重复工单).

The helper is asked only when the acting role may pick a handling unit (派单, 改派, 重办) or merge the order (并单:
then only the likely repeats are shown, not the category and unit) and a dispatch model is already built: without one, `hotline.dispatch.service.advise` trains one first (a minute or more), and a page must
not wait for that, so there is simply no suggestion until a model exists. The suggestion is a help only: the unit
and the category stay the dispatcher's choice, and any failure leaves the page as it would be without it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from hotline.accounts.domain import Acting
from hotline.workorders import domain as d
from hotline.workorders import service as orders
from hotline.workorders.advice import advise_for

log = logging.getLogger(__name__)

A = d.Action
# The steps that pick a handling unit: the page asks for a suggestion when one of them is offered.
UNIT_STEPS = frozenset({A.DISPATCH, A.REDISPATCH, A.REOPEN})
# 重办 goes back to the unit that handled the order (or its 接替单位) unless another is picked: not prefilled.
PREFILLED = (A.DISPATCH, A.REDISPATCH)
# As the 受理 page says them (static/intake.js).
REASONS = {
    "same-phone": "同一来电号码",
    "same-place": "同一地点",
    "similar-text": "内容相似",
    "stands-out": "内容最接近",
}


def percent(x: float) -> str:
    """A confidence as the pages show it, rounded as the 受理 page's script does (Math.round)."""
    return f"{math.floor(float(x) * 100 + 0.5)}%"


def advise_order(session: Session, number: str) -> dict[str, Any] | None:
    """`hotline.dispatch.service.advise` on stored order NUMBER (through `workorders.advice.advise_for`, which
    keeps a failure out of the page's transaction), or None when no dispatch model is built yet or asking failed
    (logged).

    The order's own instant is the demand's: the repeat candidates are the open orders taken before it (the
    earlier telling is the one to merge into), never the order itself.
    """
    try:
        from hotline.dispatch import service as dispatch
    except ImportError:
        log.exception("dispatch helper unavailable")
        return None
    try:
        if dispatch.usable_version() is None:
            return None
        row = orders.get_order(session, number)
    except Exception:  # the suggestion is a help; the page must not depend on it
        log.exception("dispatch suggestion for order %s failed", number)
        return None
    advice = advise_for(
        session,
        text=row.content,
        region_code=row.region_code,
        line=row.line or None,
        phone=row.caller_phone,
        place=row.place,
        at=row.created_at,
        exclude=row.number,
    )
    if advice is not None and "error" in advice:
        # A refusal of the helper's own (a HotlineError) is told as such; anything else is a failure.
        level = logging.ERROR if advice["error"] == "advice-failed" else logging.WARNING
        log.log(level, "no dispatch suggestion for order %s: %s (%s)", number, advice.get("message"), advice["error"])
        return None
    return advice


def hint(session: Session, order: dict[str, Any], who: Acting, offered: Collection[d.Action]) -> dict[str, Any] | None:
    """What the 办理 section shows of the helper's advice on ORDER (a `show_order` view) for WHO, offered the
    steps OFFERED: None when no step picks a unit or merges, or there is no advice (or, for a role that may only
    merge, no likely repeat).

    `prefill` maps a step (派单, 改派) to the values its form starts with: the suggested unit (unless it is the
    unit the order is being taken from) and, when the order has no category yet, the suggested first-level
    category if the category tree holds it (else the step would be refused). Nothing is prefilled when the
    helper flags the demand for manual dispatch (low confidence).
    """
    if not UNIT_STEPS & set(offered) and A.MERGE not in offered:
        return None
    advice = advise_order(session, order["number"])
    if advice is None:
        return None
    try:
        shown = _shown(session, advice, order, who, offered)
    except Exception:  # an answer of an unexpected shape: no suggestion rather than no page
        log.exception("dispatch suggestion for order %s cannot be shown", order["number"])
        return None
    return shown if shown["suggest"] or shown["repeats"] else None


def _shown(
    session: Session, advice: dict[str, Any], order: dict[str, Any], who: Acting, offered: Collection[d.Action]
) -> dict[str, Any]:
    unit = advice.get("unit")
    category = str(advice["category"])
    firsts = {first for first, _, _ in orders.category_tree(session)}
    filled_category = category if not order["category"] and category in firsts else ""
    lead = order["lead_unit"]
    prefill: dict[str, dict[str, str]] = {}
    for step in PREFILLED:
        # Flagged for manual dispatch, the suggestion is shown but chosen by no one: an untouched form would
        # otherwise send the order where the helper doubts it belongs.
        if step not in offered or advice.get("manual"):
            continue
        taken_from = step is A.REDISPATCH and lead is not None and unit is not None and lead["code"] == unit["code"]
        prefill[step.value] = {
            "target_unit": unit["code"] if unit and not taken_from else "",
            "category": filled_category,
        }
    query = urlencode({"role": who.role, **({"unit": who.unit} if who.unit else {})})
    repeats = [
        {
            "number": match["number"],
            "href": f"/orders/{quote(str(match['number']), safe='')}?{query}",
            "why": "、".join(REASONS.get(r, r) for r in match.get("reasons", [])),
            "similarity": percent(match["similarity"]),
            "excerpt": match.get("excerpt", ""),
            "reason": f"与工单 {match['number']} 为重复诉求",
        }
        for match in advice.get("repeats", [])
    ]
    return {
        "suggest": bool(UNIT_STEPS & set(offered)),
        "category": category,
        "confidence": percent(advice["confidence"]),
        "manual": bool(advice["manual"]),
        "unit": {"code": unit["code"], "name": unit["name"]} if unit else None,
        "repeats": repeats,
        "merge": A.MERGE in offered,
        "prefill": prefill,
    }
