import datetime

import pytest
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from consultations.models import Consultation, Referral, ScreeningTest
from mass.models import AuditEvent
from outreach.models import PossibleDuplicate, SyncedRecord
from patients.models import HarmReductionContact, OutreachAttempt, Patient, Visit
from tests.factories import PartnerFactory, PatientFactory
from tests.outreach.conftest import made_at, record, sync

pytestmark = pytest.mark.django_db


def test_every_kind_is_accepted_with_its_time_and_audit_row(nurse_api, device, shelter):
    known = PatientFactory(alias="Tintin", birth_year=1980)
    partner = PartnerFactory()
    when = made_at(datetime.timedelta(hours=-3))
    new_person = record("person", site=shelter, alias="Milou", birth_year=1990, when=when)
    records = [
        new_person,
        record("contact", site=shelter, person=new_person["uuid"], purpose="harm_reduction",
               when=when),
        record("material", site=shelter, lines=[{"code": "syringe", "handed_out": 10,
                                                 "returned": 4}], when=when),
        record("note", site=shelter, patient=known, text="Seen at the shelter.",
               discipline="nursing", when=when),
        record("screening", site=shelter, patient=known, test="hcv", result="negative",
               when=when),
        record("referral", site=shelter, patient=known, partner=partner.pk,
               text="Detox bed asked.", when=when),
        record("attempt", site=shelter, patient=known, outcome="not_reached", when=when),
        record("initiation", site=shelter, patient=known, text="Methadone decided.",
               when=when),
    ]
    audit_before = AuditEvent.objects.count()

    response = sync(nurse_api, device, records)

    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 8, results
    assert [r["uuid"] for r in results] == [r["uuid"] for r in records]
    milou = Patient.objects.get(alias="Milou")
    assert results[0]["patient"] == results[1]["patient"] == milou.pk
    day = datetime.date.fromisoformat(when[:10])
    assert Visit.objects.get(patient=milou).date == day
    assert Visit.objects.get(patient=milou).site == shelter
    assert HarmReductionContact.objects.get(site=shelter, patient=None).handed_out == 10
    assert Consultation.objects.filter(patient=known, date=day, site=shelter).count() == 2
    assert ScreeningTest.objects.get(patient=known).date == day
    assert Referral.objects.get(patient=known).date == day
    assert OutreachAttempt.objects.get(patient=known).date == day
    assert Alert.objects.get(patient=known).kind == Alert.Kind.DOCTOR_FIRST
    assert SyncedRecord.objects.count() == 8
    # One audit row per record at least (its service's), the initiation two (note, alert).
    assert AuditEvent.objects.count() - audit_before >= 9
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in \
        response["Cache-Control"]


def test_replay_answers_already_and_writes_nothing(nurse_api, device, shelter):
    known = PatientFactory()
    records = [record("contact", site=shelter, patient=known),
               record("note", site=shelter, patient=known, text="x", discipline="nursing")]
    sync(nurse_api, device, records)
    counts = (Visit.objects.count(), Consultation.objects.count(), AuditEvent.objects.count(),
              SyncedRecord.objects.count())

    results = sync(nurse_api, device, records).json()["results"]

    assert [r["status"] for r in results] == ["already", "already"]
    assert (Visit.objects.count(), Consultation.objects.count(), AuditEvent.objects.count(),
            SyncedRecord.objects.count()) == counts


def test_replay_answers_each_uuid_as_the_device_wrote_it(nurse_api, device, shelter):
    sent = record("contact", site=shelter, patient=PatientFactory())
    sent["uuid"] = sent["uuid"].upper()

    first = sync(nurse_api, device, [sent]).json()["results"][0]
    again = sync(nurse_api, device, [sent]).json()["results"][0]

    assert (first["uuid"], first["status"]) == (sent["uuid"], "accepted")
    assert (again["uuid"], again["status"]) == (sent["uuid"], "already")
    assert Visit.objects.count() == 1


def test_offline_registration_like_an_existing_file_is_offered_for_merge(
        nurse_api, device, shelter):
    existing = PatientFactory(alias="Popeye", birth_year=1975)

    results = sync(nurse_api, device, [record("person", site=shelter, alias="Popeye",
                                              birth_year=1975)]).json()["results"]

    assert results[0]["status"] == "accepted"
    duplicate = PossibleDuplicate.objects.get()
    assert duplicate.existing == existing and duplicate.registered_id == results[0]["patient"]
    assert existing.file_number in results[0]["reason"]


def test_person_registered_twice_offline_is_offered_for_merge(nurse_api, device, shelter,
                                                              coordinator_user):
    twice = [record("person", site=shelter, alias="Castafiore", birth_year=1960)
             for _ in range(2)]

    results = sync(nurse_api, device, twice).json()["results"]

    assert [r["status"] for r in results] == ["accepted", "accepted"]
    first, second = (Patient.objects.get(pk=r["patient"]) for r in results)
    assert "offered for merge" in results[1]["reason"] and first.file_number in \
        results[1]["reason"]
    duplicate = PossibleDuplicate.objects.get()
    assert (duplicate.registered, duplicate.existing) == (second, first)
    coordinator = Client()
    coordinator.force_login(coordinator_user)
    page = coordinator.get(reverse("outreach:duplicates")).content.decode()
    assert first.file_number in page and second.file_number in page
    assert reverse("patients:merge", args=[first.pk]) in page


def test_duplicates_page_queries_do_not_grow(coordinator_client, coordinator_user,
                                             django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def duplicate():
        PossibleDuplicate.objects.create(registered=PatientFactory(),
                                         existing=PatientFactory(), reasons=["similar_alias"])

    duplicate()
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(reverse("outreach:duplicates"))
    duplicate()
    duplicate()
    with django_assert_num_queries(len(one)):
        response = coordinator_client.get(reverse("outreach:duplicates"),
                                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.content.decode().count("similar alias") == 3
