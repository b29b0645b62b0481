"""Opening hours and one-off closures of a site, and the one place that says whether a site
is open on a day (mass.sites.selectors.site_calendar): weekdays without hours, Belgian public
holidays, closures."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mass.models import AuditEvent, Site, SiteClosure
from mass.sites import selectors, services
from tests.conftest import EN
from tests.factories import woeringen


def day(delta=0) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=delta)


def hours_form(**overrides) -> dict:
    """Monday to Saturday 10:00-19:00, Sunday closed, with ``overrides``."""
    data = {}
    for weekday in range(7):
        data[f"opens_{weekday}"] = "10:00" if weekday < 6 else ""
        data[f"closes_{weekday}"] = "19:00" if weekday < 6 else ""
    return {**data, **overrides}


def closure_form(first, last, reason="Journée de formation") -> dict:
    return {"first_day": first.isoformat(), "last_day": last.isoformat(), "reason": reason}


@pytest.fixture
def closure(db, coordinator_user):
    return services.site_closure_create(site=woeringen(), first_day=day(10), last_day=day(12),
                                        reason="Travaux", actor=coordinator_user)


# --- the calendar ---------------------------------------------------------------------------


def test_calendar_closes_sundays_easter_monday_and_a_closure(db, coordinator_user):
    centre = woeringen()  # Monday to Saturday (seed 000), closed on public holidays
    SiteClosure.objects.create(site=centre, first_day=datetime.date(2027, 4, 7),
                               last_day=datetime.date(2027, 4, 8), reason="Travaux",
                               created_by=coordinator_user)
    start, end = datetime.date(2027, 3, 26), datetime.date(2027, 4, 10)
    closed = selectors.site_closed_days(centre, start, end)
    assert [(c.day, c.kind) for c in closed] == [
        (datetime.date(2027, 3, 28), "hours"),  # Easter Sunday: closed as every Sunday
        (datetime.date(2027, 3, 29), "holiday"),  # Easter Monday
        (datetime.date(2027, 4, 4), "hours"),     # an ordinary Sunday
        (datetime.date(2027, 4, 7), "closure"),
        (datetime.date(2027, 4, 8), "closure"),
    ]
    assert closed[-1].reason == "Travaux"
    assert not selectors.is_open(centre, datetime.date(2027, 3, 29))
    assert selectors.is_open(centre, datetime.date(2027, 3, 30))
    assert not selectors.is_open(centre, datetime.date(2027, 4, 4))


def test_holidays_named_in_the_language_of_the_page(db):
    from django.utils import translation
    with translation.override("nl"):
        closed = selectors.site_closed_days(woeringen(), datetime.date(2027, 3, 29),
                                            datetime.date(2027, 3, 29))
    assert closed[0].reason == "Paasmaandag"


def test_site_open_on_holidays_when_it_says_so(db):
    shelter = Site.objects.create(name="Abri de nuit", kind=Site.Kind.SHELTER,
                                  closed_on_public_holidays=False)
    # No hours kept (an outreach place): only closures would close it.
    assert selectors.is_open(shelter, datetime.date(2027, 3, 29))
    assert selectors.is_open(shelter, datetime.date(2027, 4, 4))


# --- opening hours --------------------------------------------------------------------------


def test_coordinator_sets_opening_hours_and_a_day_left_empty_is_closed(coordinator_client):
    centre = woeringen()
    response = coordinator_client.post(reverse("site_hours", args=[centre.pk]),
                                       hours_form(opens_3="", closes_3="", opens_5="09:30",
                                                  closes_5="12:30"), **EN)
    assert response.status_code == 302
    hours = {(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}")
             for h in centre.opening_hours.all()}
    assert hours == {(0, "10:00", "19:00"), (1, "10:00", "19:00"), (2, "10:00", "19:00"),
                     (4, "10:00", "19:00"), (5, "09:30", "12:30")}
    thursday, friday = datetime.date(2027, 1, 7), datetime.date(2027, 1, 8)
    assert [c.kind for c in selectors.site_closed_days(centre, thursday, friday)] == ["hours"]
    event = AuditEvent.objects.get(object_type="mass.site", summary__startswith="opening")
    assert event.details["before"]["3"] == "14:00-19:00" and "3" not in event.details["after"]


def test_opening_hours_form_shows_the_current_hours(coordinator_client):
    content = coordinator_client.get(reverse("site_hours", args=[woeringen().pk]),
                                     **EN).content.decode()
    assert 'name="opens_3" value="14:00"' in content and 'name="opens_6"' in content


@pytest.mark.parametrize("data,message", [
    (hours_form(opens_0="19:00", closes_0="10:00"), "Closes after it opens."),
    (hours_form(closes_1=""), "Give both times, or neither for a closed day."),
    (hours_form(opens_2="25:00"), "Enter a valid time."),
    ({}, "Give the hours of at least one day"),
])
def test_opening_hours_bad_input_changes_nothing(coordinator_client, data, message):
    centre = woeringen()
    before = list(centre.opening_hours.values_list("weekday", "opens", "closes"))
    response = coordinator_client.post(reverse("site_hours", args=[centre.pk]), data, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    assert list(centre.opening_hours.values_list("weekday", "opens", "closes")) == before
    assert not AuditEvent.objects.filter(object_type="mass.site").exists()


@pytest.mark.parametrize("name", ["site_hours", "site_closures"])
def test_other_roles_may_not_keep_hours_or_closures(client, role_users, name):
    from mass.accounts.roles import Role
    centre = woeringen()
    for role, user in role_users.items():
        if role == Role.COORDINATOR:
            continue
        client.force_login(user)
        url = reverse(name, args=[centre.pk])
        assert client.get(url).status_code == 403
        data = hours_form() if name == "site_hours" else closure_form(day(3), day(3))
        assert client.post(url, data).status_code == 403
    assert not SiteClosure.objects.exists()
    assert not AuditEvent.objects.filter(object_type__startswith="mass.site").exists()


# --- closures -------------------------------------------------------------------------------


def test_coordinator_records_a_closure_shown_on_the_sites(coordinator_client, coordinator_user):
    centre = woeringen()
    response = coordinator_client.post(reverse("site_closures", args=[centre.pk]),
                                       closure_form(day(1), day(2)), **EN)
    assert response.status_code == 302
    closure = SiteClosure.objects.get()
    assert (closure.site, closure.first_day, closure.last_day, closure.created_by) == (
        centre, day(1), day(2), coordinator_user)
    assert AuditEvent.objects.filter(object_type="mass.siteclosure", action="create",
                                     object_id=str(closure.pk)).exists()
    assert not selectors.is_open(centre, day(1))
    listing = coordinator_client.get(reverse("site_list"), **EN).content.decode()
    assert "Journée de formation" in listing


def test_a_closure_of_today_is_accepted(coordinator_client):
    response = coordinator_client.post(reverse("site_closures", args=[woeringen().pk]),
                                       closure_form(day(), day()), **EN)
    assert response.status_code == 302 and SiteClosure.objects.filter(first_day=day()).exists()


@pytest.mark.parametrize("first,last,reason,message", [
    (-1, 1, "Grève", "A closure cannot start in the past"),
    (3, 2, "Grève", "The last closed day is before the first one."),
    (3, 3, "", "This field is required."),
    (11, 11, "Grève", "These days overlap another closure of MASS Woeringen"),
    (8, 10, "Grève", "These days overlap another closure of MASS Woeringen"),
    (12, 20, "Grève", "These days overlap another closure of MASS Woeringen"),
])
def test_closure_bad_input_is_refused_and_nothing_written(coordinator_client, closure, first,
                                                          last, reason, message):
    events = AuditEvent.objects.count()
    response = coordinator_client.post(reverse("site_closures", args=[woeringen().pk]),
                                       closure_form(day(first), day(last), reason), **EN)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(SiteClosure.objects.all()) == [closure]
    assert AuditEvent.objects.count() == events


def test_the_database_refuses_overlapping_closures_of_a_site(closure, coordinator_user):
    # Two coordinators saving at once: the service's check passes for both, the exclusion
    # constraint stops the second.
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteClosure.objects.create(site=closure.site, first_day=day(12), last_day=day(14),
                                   reason="Grève", created_by=coordinator_user)
    other = Site.objects.create(name="Antenne", kind=Site.Kind.CENTRE)
    SiteClosure.objects.create(site=other, first_day=day(10), last_day=day(12), reason="Grève",
                               created_by=coordinator_user)  # another site: no overlap
    SiteClosure.objects.create(site=closure.site, first_day=day(13), last_day=day(13),
                               reason="Grève", created_by=coordinator_user)  # adjacent
    assert SiteClosure.objects.count() == 3


def test_coordinator_withdraws_a_coming_closure(coordinator_client, closure):
    response = coordinator_client.post(reverse("site_closure_delete", args=[closure.pk]),
                                       **EN)
    assert response.status_code == 302 and not SiteClosure.objects.exists()
    assert AuditEvent.objects.filter(object_type="mass.siteclosure", action="cancel",
                                     object_id=str(closure.pk)).exists()


def test_a_started_closure_stays(coordinator_client, coordinator_user):
    started = SiteClosure.objects.create(site=woeringen(), first_day=day(), last_day=day(2),
                                         reason="Grève", created_by=coordinator_user)
    response = coordinator_client.post(reverse("site_closure_delete", args=[started.pk]),
                                       follow=True, **EN)
    assert "This closure has started" in response.content.decode()
    assert SiteClosure.objects.filter(pk=started.pk).exists()


def test_withdraw_is_post_only(coordinator_client, closure):
    assert coordinator_client.get(reverse("site_closure_delete",
                                          args=[closure.pk])).status_code == 405
    assert SiteClosure.objects.filter(pk=closure.pk).exists()


@pytest.mark.parametrize("extra", [1, 3])
def test_closures_page_query_count_is_constant(coordinator_client, coordinator_user,
                                               django_assert_num_queries, extra):
    centre = woeringen()
    for index in range(extra):
        SiteClosure.objects.create(site=centre, first_day=day(10 * index + 1),
                                   last_day=day(10 * index + 2), reason=f"Fermeture {index}",
                                   created_by=coordinator_user)
    with django_assert_num_queries(CLOSURES_PAGE_QUERIES):
        response = coordinator_client.get(reverse("site_closures", args=[centre.pk]))
    assert response.content.decode().count("data-closure=") == extra


# session, user, permissions and roles (one), the site, its closures with who recorded
# them, session save (3)
CLOSURES_PAGE_QUERIES = 8


def test_demo_closes_the_centre_once_on_a_coming_open_day(db):
    from mass.accounts.demo import seed_closure, seed_staff
    seed_staff()
    assert seed_closure() is not None
    closure = SiteClosure.objects.get()
    assert closure.first_day == closure.last_day and closure.first_day >= day(3)
    # Not a day the centre was closed anyway (a Sunday, a holiday).
    closure_kinds = [c.kind for c in selectors.site_closed_days(
        closure.site, closure.first_day, closure.first_day)]
    assert closure_kinds == ["closure"]
    calendar = selectors.SiteCalendar(site=None, open_weekdays=frozenset(range(6)),
                                      closures=(), closed_on_public_holidays=True)
    assert calendar.is_open(closure.first_day)
    assert seed_closure() is None and SiteClosure.objects.count() == 1
