"""The sites' hand-written SQL: every statement the ORM cannot say as fast, each with its
reason (docs/style.md, "Where SQL lives")."""

import datetime

from django.db import connection

from mass.models import OpeningHours, Site, SiteClosure


def site_calendar_row(*, site_id: int | None = None, centre: bool = False,
                      start: datetime.date, end: datetime.date) -> tuple | None:
    """(id, name, kind, closed_on_public_holidays, open weekdays, closures touching
    ``start``..``end`` as [first_day, last_day, reason] JSON arrays) of the site ``site_id``,
    or with ``centre`` of the active MASS centre; None when there is none.
    SQL: read on every page of the dispensing list, where building the same query with the
    ORM (two array subqueries) took four times as long as running it."""
    if centre:
        where, params = "s.kind = %(centre)s AND s.is_active", {"centre": Site.Kind.CENTRE}
    else:
        where, params = "s.id = %(site)s", {"site": site_id}
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT s.id, s.name, s.kind, s.closed_on_public_holidays,
                   ARRAY(SELECT h.weekday FROM {OpeningHours._meta.db_table} h
                          WHERE h.site_id = s.id),
                   ARRAY(SELECT json_build_array(c.first_day, c.last_day, c.reason)
                           FROM {SiteClosure._meta.db_table} c
                          WHERE c.site_id = s.id AND c.last_day >= %(start)s
                            AND c.first_day <= %(end)s
                          ORDER BY c.first_day)
              FROM {Site._meta.db_table} s
             WHERE {where}
             ORDER BY s.name, s.id LIMIT 1""", {**params, "start": start, "end": end})
        return cursor.fetchone()
