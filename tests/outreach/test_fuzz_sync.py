"""Hostile JSON to the outreach API: never a server error, and a record that is not a valid
one is refused alone and writes nothing (the sync's own bad-input campaign; the form campaign
of tests/fuzz/ posts HTML forms)."""

import json

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mass.models import AuditEvent
from outreach.models import OutreachDevice, SyncedRecord
from patients.models import Patient, Visit
from tests.outreach.conftest import made_at

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = st.sampled_from(["", "\x00", "<script>alert(1)</script>", "9" * 400, "null",
                                "' OR 1=1 --", "\ufeff", "2026-02-30T25:61:00+99:00"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=30), HOSTILE_TEXT)
JSON = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children,
                                                     max_size=4)), max_leaves=12)
KINDS = st.sampled_from(["person", "contact", "material", "note", "screening", "referral",
                         "attempt", "initiation", "dose", None])
#: A record with the right keys and wrong values, or anything at all.
RECORD = st.one_of(
    st.fixed_dictionaries({"uuid": st.one_of(st.uuids().map(str), SCALARS), "kind": KINDS,
                           "made_at": st.one_of(SCALARS, st.datetimes().map(
                               lambda d: d.isoformat())),
                           "site": SCALARS, "patient": SCALARS, "person": SCALARS},
                          optional={"alias": SCALARS, "text": SCALARS, "lines": JSON,
                                    "discipline": SCALARS, "test": SCALARS,
                                    "outcome": SCALARS, "partner": SCALARS,
                                    "birth_year": SCALARS}),
    JSON)
#: A record with a valid kind and time, so that it reaches the checks of site, patient,
#: person and lines with values of any JSON type (a list or an object is not hashable). No
#: small int as a site: it could be a real outreach site.
NOT_AN_ID = st.one_of(st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=5),
                                                                     SCALARS, max_size=3),
                      st.text(max_size=10), st.floats(allow_nan=True), st.booleans(),
                      st.integers(min_value=10 ** 9))
RECORD_REACHING_FIELDS = st.fixed_dictionaries(
    {"uuid": st.uuids().map(str),
     "kind": st.sampled_from(["person", "contact", "material", "note", "screening",
                              "referral", "attempt", "initiation"]),
     "made_at": st.builds(made_at), "site": NOT_AN_ID,
     "patient": st.one_of(st.none(), NOT_AN_ID), "person": st.one_of(st.none(), JSON)},
    optional={"lines": JSON, "purpose": JSON, "discipline": JSON, "text": SCALARS})


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(st.one_of(RECORD, RECORD_REACHING_FIELDS), max_size=5),
       device=st.one_of(st.just("mine"), SCALARS))
def test_hostile_records_are_refused_one_by_one(nurse_api, team_nurse, records, device):
    own = OutreachDevice.objects.get_or_create(user=team_nurse, name="Team phone")[0]
    body = {"device": str(own.pk) if device == "mine" else device, "records": records}
    with transaction.atomic():
        before = (Patient.objects.count(), Visit.objects.count(), SyncedRecord.objects.count())
        response = nurse_api.post(reverse("outreach:api_sync"), data=json.dumps(body),
                                  content_type="application/json")
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            results = response.json()["results"]
            assert len(results) == len(records)
            assert {r["status"] for r in results} <= {"refused"}
        assert (Patient.objects.count(), Visit.objects.count(),
                SyncedRecord.objects.count()) == before
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE,
                                             patient__isnull=False).exists()
        transaction.set_rollback(True)


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b"\xff\xfe", b'{"name": ["x"]}',
                                  b'{"name": "' + b"x" * 200 + b'"}', b'"just a string"'])
def test_hostile_device_registrations_write_nothing(nurse_api, body):
    response = nurse_api.post(reverse("outreach:api_devices"), data=body,
                              content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert not OutreachDevice.objects.exists()
