"""The bad input of issue 16: each refused per record with its reason, the rest of the batch
accepted, nothing written twice."""

import datetime
import uuid

import pytest
from django.urls import reverse

from consultations.models import Consultation
from mass.accounts.roles import Role
from mass.models import AuditEvent
from outreach.models import OutreachDevice, SyncedRecord
from outreach.services import NOTE_MAX_CHARS
from patients.models import Patient, Visit
from tests.conftest import make_staff
from tests.factories import PatientFactory, woeringen
from tests.outreach.conftest import made_at, record, sync

pytestmark = pytest.mark.django_db


def _statuses(response):
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


@pytest.mark.parametrize("bad, reason", [
    (lambda s, p: record("note", site=s, patient=p, discipline="nursing",
                         text="x" * (NOTE_MAX_CHARS + 1)), "too long"),
    (lambda s, p: record("contact", site=s, patient=p,
                         when=made_at(datetime.timedelta(days=2))), "future"),
    (lambda s, p: record("contact", site=s, patient=p,
                         when=made_at(datetime.timedelta(hours=-20))), "older than a round"),
    (lambda s, p: record("contact", site=s, patient=p,
                         when=made_at()[:19]), "no valid time"),
    (lambda s, p: record("contact", site=woeringen(), patient=p), "not an outreach site"),
    (lambda s, p: {**record("contact", site=s, patient=p), "site": 999999}, "Unknown or closed"),
    (lambda s, p: {**record("contact", site=s, patient=p), "patient": 999999},
     "Unknown patient"),
    (lambda s, p: record("dose", site=s, patient=p), "Unknown kind"),
    (lambda s, p: record("contact", site=s, patient=p, dose_mg=60), "Unknown fields: dose_mg"),
    (lambda s, p: {**record("contact", site=s, patient=p), "uuid": "not-a-uuid"},
     "identifier"),
    (lambda s, p: record("note", site=s, patient=p, discipline="psychological", text="x"),
     "discipline"),
    (lambda s, p: record("contact", site=s, person=str(uuid.uuid4())), "not registered"),
    (lambda s, p: record("material", site=s, lines=[{"code": "syringe", "handed_out": -1}]),
     "quantities"),
    (lambda s, p: record("person", site=s, patient=p, alias="Twice"), "names no file"),
    # Values of the wrong JSON type (a list or an object is not even hashable): refused with
    # the field's reason, never a server error.
    (lambda s, p: {**record("contact", site=s, patient=p), "site": []}, "Unknown or closed"),
    (lambda s, p: {**record("contact", site=s, patient=p), "site": {}}, "Unknown or closed"),
    (lambda s, p: {**record("contact", site=s, patient=p), "site": str(s.pk)},
     "Unknown or closed"),
    (lambda s, p: {**record("contact", site=s, patient=p), "site": 10 ** 30},
     "Unknown or closed"),
    (lambda s, p: {**record("contact", site=s, patient=p), "patient": []}, "Unknown patient"),
    (lambda s, p: {**record("contact", site=s, patient=p), "patient": {}}, "Unknown patient"),
    (lambda s, p: {**record("contact", site=s, patient=p), "patient": 10 ** 30},
     "Unknown patient"),
    (lambda s, p: record("contact", site=s, person=[]), "Unknown person"),
    (lambda s, p: record("contact", site=s, person={"a": 1}), "Unknown person"),
    (lambda s, p: record("material", site=s, lines={"syringe": 1}), "at least one"),
    (lambda s, p: record("material", site=s, lines=[["syringe", 1]]), "Unknown fields"),
    (lambda s, p: record("material", site=s, lines=[{"code": [], "handed_out": 1}]),
     "Unknown value for code"),
    (lambda s, p: record("note", site=s, patient=p, discipline=[], text="x"), "discipline"),
    (lambda s, p: record("contact", site=s, patient=p, purpose={}), "Unknown value"),
    (lambda s, p: {**record("contact", site=s, patient=p), "made_at": []}, "no valid time"),
    (lambda s, p: {**record("contact", site=s, patient=p), "made_at": {}}, "no valid time"),
    (lambda s, p: record("contact", site=s, patient=p, when="2026-02-30T10:00:00+01:00"),
     "no valid time"),
    (lambda s, p: record("contact", site=s, patient=p, when="2026-01-01T10:00:00+99:00"),
     "no valid time"),
    # The calendar's edges: the future one cannot even be shown in Brussels time.
    (lambda s, p: record("contact", site=s, patient=p, when="9999-12-31T23:00:00-05:00"),
     "dated in the future"),
    (lambda s, p: record("contact", site=s, patient=p, when="0001-01-01T00:00:00+05:00"),
     "older than a round"),
    # A tampered ciphertext reaches the server as a record it cannot read.
    (lambda s, p: {"uuid": str(uuid.uuid4()), "ciphertext": "AAAA"}, "Unknown kind"),
])
def test_bad_record_is_refused_with_its_reason_and_the_rest_accepted(
        nurse_api, device, shelter, bad, reason):
    patient = PatientFactory()
    good_before = record("contact", site=shelter, patient=patient, purpose="social")
    good_after = record("contact", site=shelter, patient=patient, purpose="consultation")
    visits, notes = Visit.objects.count(), Consultation.objects.count()

    answers = _statuses(sync(nurse_api, device, [good_before, bad(shelter, patient),
                                                 good_after]))

    assert answers[0][0] == answers[2][0] == "accepted"
    assert answers[1][0] == "refused" and reason in answers[1][1], answers[1]
    assert Visit.objects.count() == visits + 2
    assert Consultation.objects.count() == notes
    assert SyncedRecord.objects.count() == 2


def test_forged_uuid_of_another_users_record_is_refused_and_audited(
        nurse_api, device, shelter, client):
    patient = PatientFactory()
    doctor = make_staff(Role.DOCTOR)
    doctor_device = OutreachDevice.objects.create(user=doctor, name="Doctor's phone")
    theirs = record("contact", site=shelter, patient=patient)
    client.force_login(doctor)
    sync(client, doctor_device, [theirs])
    visits = Visit.objects.count()

    client.force_login(device.user)
    forged = {**record("note", site=shelter, patient=patient, discipline="nursing",
                       text="overwrite?"), "uuid": theirs["uuid"]}
    answers = _statuses(sync(client, device, [forged]))

    assert answers[0][0] == "refused" and "another member of staff" in answers[0][1]
    assert Visit.objects.count() == visits
    assert not Consultation.objects.filter(patient=patient).exists()
    assert SyncedRecord.objects.get(uuid=theirs["uuid"]).user == doctor
    assert AuditEvent.objects.filter(actor=device.user,
                                     details__uuid=theirs["uuid"]).exists()


def test_role_without_screening_is_refused_per_record(client, shelter):
    psychologist = make_staff(Role.PSYCHOLOGIST)
    device = OutreachDevice.objects.create(user=psychologist, name="Phone")
    client.force_login(psychologist)
    patient = PatientFactory()

    answers = _statuses(sync(client, device, [
        record("screening", site=shelter, patient=patient, test="hiv"),
        record("note", site=shelter, patient=patient, discipline="psychological", text="ok"),
    ]))

    assert answers[0][0] == "refused" and "does not record" in answers[0][1]
    assert answers[1][0] == "accepted"


def test_device_of_another_user_is_refused(nurse_api, shelter):
    other = OutreachDevice.objects.create(user=make_staff(Role.DOCTOR), name="Not mine")
    answers = _statuses(sync(nurse_api, other, [record("contact", site=shelter,
                                                      patient=PatientFactory())]))
    assert answers[0][0] == "refused" and "not registered" in answers[0][1]
    assert not Visit.objects.exists()


def test_batch_too_large_or_not_json_is_refused_whole(nurse_api, device, shelter):
    patient = PatientFactory()
    too_many = [record("contact", site=shelter, patient=patient) for _ in range(501)]
    response = sync(nurse_api, device, too_many)
    assert response.status_code == 400 and "500" in response.json()["error"]
    response = nurse_api.post(reverse("outreach:api_sync"), data="{not json",
                               content_type="application/json")
    assert response.status_code == 400
    assert not Visit.objects.exists() and not SyncedRecord.objects.exists()


def test_merged_file_maps_to_the_kept_file(nurse_api, device, shelter, coordinator_user):
    from patients.services import patient_merge
    kept, merged = PatientFactory(), PatientFactory()
    patient_merge(kept=kept, merged=merged, reason="Same person", actor=coordinator_user)

    answers = sync(nurse_api, device, [record("contact", site=shelter, patient=merged)]
                   ).json()["results"]

    assert answers[0]["status"] == "accepted" and answers[0]["patient"] == kept.pk
    assert Visit.objects.get().patient == kept
    assert not Visit.objects.filter(patient=merged).exists()


def test_person_of_earlier_batch_merged_meanwhile_maps_to_kept_file(
        nurse_api, device, shelter, coordinator_user):
    from patients.services import patient_merge
    person = record("person", site=shelter, alias="Haddock")
    sync(nurse_api, device, [person])
    registered = Patient.objects.get(alias="Haddock")
    kept = PatientFactory(alias="Capitaine")
    patient_merge(kept=kept, merged=registered, reason="Same", actor=coordinator_user)

    answers = sync(nurse_api, device, [record("contact", site=shelter,
                                              person=person["uuid"])]).json()["results"]

    assert answers[0]["patient"] == kept.pk
    assert Visit.objects.get().patient == kept
    # The replay of the registration answers the kept file too.
    assert sync(nurse_api, device, [person]).json()["results"][0]["patient"] == kept.pk


def test_sync_for_role_without_outreach_is_403_and_writes_nothing(client, reception_user,
                                                                 shelter):
    device = OutreachDevice.objects.create(user=reception_user, name="Desk phone")
    client.force_login(reception_user)

    response = sync(client, device, [record("contact", site=shelter, patient=PatientFactory())])

    assert response.status_code == 403 and "error" in response.json()
    assert not Visit.objects.exists() and not SyncedRecord.objects.exists()
