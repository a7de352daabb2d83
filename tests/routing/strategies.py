"""Hypothesis strategies shared by the routing property tests: arbitrary plan states of the 2021 catalogue."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import strategies as st

from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import PlanState, Record, RecordKind
from hotline.plan.regions import REGIONS

CAT = load_catalogue()
NUMBERS = [line.number for line in CAT.fixed_lines()]
STAMP = datetime(2021, 1, 1, tzinfo=UTC)
days_2021 = st.dates(min_value=date(2021, 1, 2), max_value=date(2021, 12, 31))


@st.composite
def plan_states(draw: st.DrawFn) -> PlanState:
    """Up to six recorded milestones (any line, milestone, region, kind and day of 2021)."""
    latest = {}
    for _ in range(draw(st.integers(0, 6))):
        line = draw(st.sampled_from(CAT.lines))
        milestone = draw(st.sampled_from(CAT.milestones_for(line.mode, line.scope)))
        region = draw(st.sampled_from(REGIONS)).code
        kind = draw(st.sampled_from(list(RecordKind)))
        latest[(line.number, milestone.id, region)] = Record(
            line.number, milestone.id, region, kind, draw(days_2021), "", "t", STAMP
        )
    return PlanState(2021, CAT, latest=latest)
