"""Where a call goes: a pure function of (dialed number, region, instant, plan state).

The contract other capabilities rely on (telephony, web) is `RouteDecision`:
- action: queue | legacy | subcenter | cancelled | reject
- prompt: id of the notice to play first, or None: "transition:<number>", "cancellation:<number>",
  "after-hours:<number>"
- skill: the domain whose agents should take the call (the line's number), or None
- target: "queue:<region code>", "legacy:<number>:<region code>", "subcenter:<number>:<region code>", or None
- reason: one sentence in Chinese
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Action(StrEnum):
    QUEUE = "queue"
    LEGACY = "legacy"
    SUBCENTER = "subcenter"
    CANCELLED = "cancelled"
    REJECT = "reject"


@dataclass(frozen=True)
class RouteDecision:
    action: Action
    prompt: str | None
    skill: str | None
    target: str | None
    reason: str

    def to_dict(self) -> dict[str, str | None]:
        data = asdict(self)
        data["action"] = self.action.value
        return data
