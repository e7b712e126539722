"""Business hours live in ``console.domain.hours`` (priority needs them as much as replies do); kept importable here."""

from console.domain.hours import WEEKDAYS, BusinessHours, Interval

__all__ = ["WEEKDAYS", "BusinessHours", "Interval"]
