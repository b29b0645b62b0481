"""Reads about the sites: the list of sites, a site's closures, and whether a site is open on
a day (``site_calendar``, read by the dispensing list and the closed-day plan)."""

import datetime
import functools
from dataclasses import dataclass

from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _gettext

# --- opening days ---------------------------------------------------------------------------
#
# Whether a site is open on a day is decided here and nowhere else: by its weekly opening
# hours (a weekday without hours is closed), its one-off closures, and the Belgian public
# holidays (the ``holidays`` package, computed in Python: no table to keep up to date).


@dataclass(frozen=True)
class ClosedDay:
    day: datetime.date
    # "hours": a weekday without opening hours (the weekly closed day, e.g. Sunday);
    # "holiday": a Belgian public holiday; "closure": a one-off closure typed by a coordinator.
    kind: str
    reason: str

    @property
    def is_weekly(self) -> bool:
        return self.kind == "hours"


@dataclass(frozen=True)
class SiteCalendar:
    """What decides a site's open days between two dates, loaded in one query."""

    site: object | None
    # The weekdays with opening hours; None when the site keeps no hours at all (an outreach
    # place reached when needed): then only closures and holidays close it.
    open_weekdays: frozenset | None
    closures: tuple  # (first_day, last_day, reason)
    closed_on_public_holidays: bool

    def closed_day(self, day: datetime.date) -> ClosedDay | None:
        """Why the site is closed on ``day``, or None when it is open: a closure first (it
        was typed for that day), then the weekly closed day (planned by routine: Easter
        Sunday is a Sunday), then a public holiday."""
        for first, last, reason in self.closures:
            if first <= day <= last:
                return ClosedDay(day, "closure", reason)
        if self.open_weekdays is not None and day.weekday() not in self.open_weekdays:
            return ClosedDay(day, "hours", _gettext("closed on %(weekday)s")
                             % {"weekday": WEEKDAYS[day.weekday()]})
        if self.closed_on_public_holidays:
            name = belgian_public_holidays(day.year).get(day)
            if name:
                return ClosedDay(day, "holiday", name)
        return None

    def is_open(self, day: datetime.date) -> bool:
        return self.closed_day(day) is None

    def closed_days(self, start: datetime.date, end: datetime.date) -> list[ClosedDay]:
        """The closed days from ``start`` to ``end`` (both included), in order."""
        days = []
        day = start
        while day <= end:
            closed = self.closed_day(day)
            if closed is not None:
                days.append(closed)
            day += datetime.timedelta(days=1)
        return days


#: A calendar that closes nothing (no site known).
ALWAYS_OPEN = SiteCalendar(site=None, open_weekdays=None, closures=(),
                           closed_on_public_holidays=False)


@functools.lru_cache(maxsize=32)
def _belgian_public_holidays(year: int, language: str) -> dict:
    import holidays
    return dict(holidays.country_holidays("BE", years=year, language=language))


def belgian_public_holidays(year: int) -> dict:
    """The Belgian public holidays of ``year``, named in the language of the page."""
    language = {"fr": "fr", "nl": "nl"}.get((translation.get_language() or "")[:2], "en_US")
    return _belgian_public_holidays(year, language)


def site_calendar(*, site=None, start: datetime.date, end: datetime.date,
                  centre: bool = False) -> SiteCalendar:
    """The calendar of ``site`` (or, with ``centre``, of the dispensary: the MASS centre,
    where the doses prescribed without a partner pharmacy are dispensed) for the closures
    that touch ``start``..``end``: one query, the site with its open weekdays and closures."""
    from django.db import connection

    from mass.models import Site
    from mass.sites import sql
    row = sql.site_calendar_row(site_id=None if centre else site.pk, centre=centre,
                                start=start, end=end)
    if row is None:
        return ALWAYS_OPEN
    site_id, name, kind, on_holidays, weekdays, closure_rows = row
    closures = tuple((datetime.date.fromisoformat(first), datetime.date.fromisoformat(last),
                      reason) for first, last, reason in closure_rows)
    return SiteCalendar(
        site=Site.from_db(connection.alias, ["id", "name", "kind", "closed_on_public_holidays"],
                          (site_id, name, kind, on_holidays)),
        open_weekdays=frozenset(weekdays) or None, closures=closures,
        closed_on_public_holidays=on_holidays)


def site_closed_days(site, start: datetime.date, end: datetime.date) -> list[ClosedDay]:
    """The days ``site`` is closed from ``start`` to ``end`` (both included)."""
    return site_calendar(site=site, start=start, end=end).closed_days(start, end)


def is_open(site, day: datetime.date) -> bool:
    return site_calendar(site=site, start=day, end=day).is_open(day)


def site_list():
    """The sites with their opening hours and the closures not yet over."""
    from django.db.models import Prefetch
    from django.utils import timezone

    from mass.models import Site, SiteClosure
    coming = (SiteClosure.objects.filter(last_day__gte=timezone.localdate())
              .order_by("first_day"))
    return Site.objects.prefetch_related(
        "opening_hours", Prefetch("closures", queryset=coming, to_attr="coming_closures"))


def site_closures(*, site, limit: int = 50) -> list:
    """A site's closures, the latest first (the coming ones, and the recent past)."""
    from mass.models import SiteClosure
    return list(SiteClosure.objects.filter(site=site).select_related("created_by")
                .order_by("-first_day")[:limit])
