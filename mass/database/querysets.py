"""Querysets built once a day.

Building a queryset with several subqueries (the 6-month rule's expressions, the dispensing
list's six subqueries) costs Django a millisecond or more of Python before PostgreSQL sees
it: more than PostgreSQL takes to answer on the desk's busiest pages. What depends only on
the day is built once a day in each thread; each caller gets a copy (``all()``) to filter
and evaluate, so no rows are ever kept between calls.
"""

import datetime
import functools
import threading
from collections.abc import Callable

from django.db.models import QuerySet


def built_once_a_day(build: Callable[[datetime.date], QuerySet]
                     ) -> Callable[[datetime.date], QuerySet]:
    """``build(day)``, built again only when ``day`` changes, in each thread (a queryset is
    not shared between threads); every call returns a fresh copy of it."""
    kept = threading.local()

    @functools.wraps(build)
    def copy_of(day: datetime.date) -> QuerySet:
        if getattr(kept, "day", None) != day:
            kept.day, kept.queryset = day, build(day)
        return kept.queryset.all()

    return copy_of
