"""The one question every figure answers: who asks, under which settings, for which months,
township and unit type.

A Query is built once from the signed-in account (a page's filters, a command's arguments) and
is scoped as it is built: town staff get their own township whatever was asked, and asking for
another is Forbidden. The figures, views, lists and reports take it whole instead of the five
values one by one, so none of them can be asked for a township the account may not see. The
database session stays beside it, not in it: one session can answer several queries, and a
query is a plain value the screens can cache figures on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor.core.calendar import month_range, parse_month_arg, shift_month
from monitor.core.config import Settings
from monitor.core.permissions import Actor, require, scope


@dataclass(frozen=True)
class Query:
    actor: Actor
    settings: Settings
    start: str
    end: str
    town: str | None = None
    unit_type: str | None = None

    def __post_init__(self) -> None:
        # Every Query, however it is built (replace() included), is a checked one: months in
        # YYYY-MM order and the township the account may see.
        object.__setattr__(self, "start", parse_month_arg(self.start))
        object.__setattr__(self, "end", parse_month_arg(self.end))
        month_range(self.start, self.end)  # BadPeriod when start is after end
        object.__setattr__(self, "town", scope(self.actor, "view", self.town))

    @classmethod
    def month_of(
        cls, actor: Actor, settings: Settings, month: str, *, town: str | None = None, unit_type: str | None = None
    ) -> Query:
        """One month: the month a list of units due, a 催报 or 本月进度 is drawn at."""
        return cls(actor=actor, settings=settings, start=month, end=month, town=town, unit_type=unit_type)

    @property
    def months(self) -> list[str]:
        return month_range(self.start, self.end)

    @property
    def month(self) -> str:
        """The period's last month: where streaks and the units due are read."""
        return self.end

    def over(self, start: str, end: str | None = None) -> Query:
        """The same question over other months (one month when `end` is left out)."""
        return replace(self, start=start, end=end or start)

    def previous(self) -> Query:
        """The period of the same length just before this one."""
        length = len(self.months)
        return self.over(shift_month(self.start, -length), shift_month(self.start, -1))

    def allowed(self, action: str) -> Query:
        """This query, once the account's role is checked for `action` (export, bulletin, review)."""
        require(self.actor, action)
        return self
