import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent
from outreach.models import OutreachDevice
from patients.models import Patient, Visit
from tests.conftest import make_staff
from tests.factories import (
    AlertFactory,
    PatientFactory,
    SiteFactory,
    VisitFactory,
    photo_of,
    woeringen,
)

pytestmark = pytest.mark.django_db


def _round(client, device, site):
    return client.get(reverse("outreach:api_round"), {"site": site.pk, "device": str(device.pk)},
                      HTTP_ACCEPT_LANGUAGE="en")


def _days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def test_round_holds_the_people_seen_at_the_place_and_nothing_else(nurse_api, device, shelter):
    seen = PatientFactory(alias="Seen here", birth_year=1970)
    VisitFactory(patient=seen, site=shelter, date=_days_ago(20))
    elsewhere = PatientFactory(alias="Seen at the centre")
    VisitFactory(patient=elsewhere, site=woeringen(), date=_days_ago(2))
    long_ago = PatientFactory(alias="Seen a year ago")
    VisitFactory(patient=long_ago, site=shelter, date=_days_ago(365))

    response = _round(nurse_api, device, shelter)

    data = response.json()
    assert [p["alias"] for p in data["people"]] == ["Seen here"]
    person = data["people"][0]
    assert person == {"id": seen.pk, "file_number": seen.file_number, "alias": "Seen here",
                      "birth_year": 1970, "photo": None, "alerts": []}
    assert data["site"] == {"id": shelter.pk, "name": shelter.name}
    assert woeringen().pk not in [s["id"] for s in data["sites"]]
    generated = datetime.datetime.fromisoformat(data["generated_at"])
    assert datetime.datetime.fromisoformat(data["expires_at"]) - generated == \
        datetime.timedelta(hours=12)
    assert {"nursing", "other"} == {d["code"] for d in data["note_disciplines"]}
    assert data["limits"]["note_max_chars"] > 0
    assert "no-store" in response["Cache-Control"]


def test_round_shows_photo_and_only_the_alerts_the_role_reads(client, shelter):
    person = PatientFactory(alias="Photo")
    VisitFactory(patient=person, site=shelter, date=_days_ago(1))
    photo_of(person)
    AlertFactory(patient=person, kind="allergy", text="Penicillin")
    AlertFactory(patient=person, kind="behaviour", text="Aggressive")
    for role, kinds in ((Role.NURSE, {"allergy", "behaviour"}),
                        (Role.SOCIAL_WORKER, {"behaviour"})):
        user = make_staff(role)
        device = OutreachDevice.objects.create(user=user, name="Phone")
        client.force_login(user)

        people = _round(client, device, shelter).json()["people"]

        assert {a["kind"] for a in people[0]["alerts"]} == kinds
        assert people[0]["photo"].startswith("data:image/jpeg;base64,")
        # The kind, never the alert's own words.
        assert "Penicillin" not in str(people) and "Aggressive" not in str(people)


def test_round_is_one_audit_row_naming_every_person(nurse_api, device, shelter, team_nurse):
    people = [PatientFactory() for _ in range(3)]
    for patient in people:
        VisitFactory(patient=patient, site=shelter, date=_days_ago(3))

    _round(nurse_api, device, shelter)

    event = AuditEvent.objects.filter(actor=team_nurse).latest("id")
    assert event.details["patients"] == sorted(p.pk for p in people)
    assert shelter.name in event.summary


def test_round_leaves_out_merged_and_deceased_files_and_keeps_own_attempts(
        nurse_api, device, shelter, team_nurse):
    from patients.services import outreach_attempt_record
    deceased = PatientFactory(status=Patient.Status.DECEASED)
    VisitFactory(patient=deceased, site=shelter, date=_days_ago(3))
    sought = PatientFactory(alias="Sought elsewhere")
    outreach_attempt_record(patient=sought, means="phone", result="not_reached",
                            actor=team_nurse)

    aliases = [p["alias"] for p in _round(nurse_api, device, shelter).json()["people"]]

    assert aliases == ["Sought elsewhere"]


def test_round_is_capped(nurse_api, device, shelter, monkeypatch):
    from outreach import selectors
    monkeypatch.setattr(selectors, "ROUND_CAP", 2)
    for days in (1, 2, 3):
        VisitFactory(patient=PatientFactory(alias=f"Day {days}"), site=shelter,
                     date=_days_ago(days))

    aliases = [p["alias"] for p in _round(nurse_api, device, shelter).json()["people"]]

    assert aliases == ["Day 1", "Day 2"]


def test_round_queries_do_not_grow_with_people(nurse_api, device, shelter,
                                               django_assert_num_queries):
    VisitFactory(patient=PatientFactory(), site=shelter, date=_days_ago(1))
    with CaptureQueriesContext(connection) as one:
        _round(nurse_api, device, shelter)
    for _ in range(2):
        VisitFactory(patient=PatientFactory(), site=shelter, date=_days_ago(1))
    with django_assert_num_queries(len(one)):
        assert len(_round(nurse_api, device, shelter).json()["people"]) == 3


@pytest.mark.parametrize("site", ["centre", "unknown", "closed", None])
def test_round_for_a_place_that_is_no_outreach_site_is_refused(nurse_api, device, site):
    site_id = {"centre": lambda: woeringen().pk, "unknown": lambda: 999999,
               "closed": lambda: SiteFactory(name="Closed", is_active=False).pk,
               None: lambda: ""}[site]()
    audit = AuditEvent.objects.count()

    response = nurse_api.get(reverse("outreach:api_round"),
                             {"site": site_id, "device": str(device.pk)})

    assert response.status_code == 400 and "error" in response.json()
    assert AuditEvent.objects.count() == audit


def test_round_for_unregistered_device_is_refused(nurse_api, shelter):
    response = nurse_api.get(reverse("outreach:api_round"),
                             {"site": shelter.pk, "device": "not-a-uuid"})
    assert response.status_code == 400 and "people" not in response.json()


def test_round_for_reception_is_403(reception_client, shelter):
    response = reception_client.get(reverse("outreach:api_round"), {"site": shelter.pk})
    assert response.status_code == 403 and "error" in response.json()
    assert not Visit.objects.exists()


def test_round_on_post_is_405(nurse_api):
    assert nurse_api.post(reverse("outreach:api_round")).status_code == 405
    assert nurse_api.get(reverse("outreach:api_sync")).status_code == 405
    assert nurse_api.get(reverse("outreach:api_devices")).status_code == 405
