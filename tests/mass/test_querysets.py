"""Querysets built once a day (mass.database.querysets.built_once_a_day): built again when the
day changes, a copy for every call (rows written since are read; nothing is kept between
calls), one per thread."""

import datetime
import threading

import pytest

from mass.database.querysets import built_once_a_day
from patients.models import Visit
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


def counting_builds():
    builds = []

    @built_once_a_day
    def walk_ins_on(day):
        builds.append(day)
        return Visit.objects.filter(date=day).order_by("id")

    return walk_ins_on, builds


def test_built_once_a_day_and_read_afresh_each_time():
    walk_ins_on, builds = counting_builds()
    first = VisitFactory(date=DAY)
    assert list(walk_ins_on(DAY)) == [first]

    second = VisitFactory(date=DAY)
    copy = walk_ins_on(DAY)

    assert list(copy) == [first, second]  # read again, not the rows of the first call
    assert list(copy.filter(pk=second.pk)) == [second]  # each caller filters its own copy
    assert builds == [DAY]  # built once for the day
    tomorrow = DAY + datetime.timedelta(days=1)
    assert list(walk_ins_on(tomorrow)) == [] and builds == [DAY, tomorrow]


def test_each_thread_builds_its_own():
    walk_ins_on, builds = counting_builds()
    walk_ins_on(DAY)
    thread = threading.Thread(target=walk_ins_on, args=(DAY,))
    thread.start()
    thread.join()
    assert builds == [DAY, DAY]
