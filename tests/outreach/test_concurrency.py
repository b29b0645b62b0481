"""The same batch sent twice at the same moment (a retry while the first request is still
running, two tabs): real threads, each with its own connection. Each record is written once;
every answer is accepted or already."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from consultations.models import Consultation
from mass.accounts.roles import Role
from outreach.models import OutreachDevice, SyncedRecord
from patients.models import HarmReductionContact, Visit
from tests.concurrency import run_together
from tests.conftest import make_staff
from tests.factories import PatientFactory, SiteFactory
from tests.outreach.conftest import record


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_twice_at_once_is_written_once(_reference_data_for_transactional_test):
    nurse = make_staff(Role.NURSE, username="t_outreach_nurse")
    device = OutreachDevice.objects.create(user=nurse, name="Team phone")
    shelter = SiteFactory(name="Concurrency shelter", kind="hotel")
    patients = [PatientFactory() for _ in range(5)]
    batch = [record("contact", site=shelter, patient=p) for p in patients]
    batch += [record("note", site=shelter, patient=p, discipline="nursing", text="Seen.")
              for p in patients]
    batch.append(record("material", site=shelter, lines=[{"code": "foil", "handed_out": 2}]))
    body = json.dumps({"device": str(device.pk), "records": batch})
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(nurse)
        clients.append(client)

    responses = run_together(*[
        lambda c=c: c.post(reverse("outreach:api_sync"), data=body,
                           content_type="application/json") for c in clients])

    assert not any(isinstance(r, Exception) for r in responses), responses
    for response in responses:
        statuses = {r["status"] for r in response.json()["results"]}
        assert statuses <= {"accepted", "already"}, response.json()
    assert SyncedRecord.objects.count() == len(batch)
    assert Visit.objects.count() == 5 and Consultation.objects.count() == 5
    assert HarmReductionContact.objects.count() == 1
