"""Working days: the official Chinese calendar (holidays and make-up working days) plus local overrides."""

from hotline.calendar.domain import WorkCalendar

__all__ = ["WorkCalendar"]
