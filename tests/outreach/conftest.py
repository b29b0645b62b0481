import datetime
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from outreach.models import OutreachDevice
from tests.conftest import make_staff
from tests.factories import SiteFactory


def made_at(delta: datetime.timedelta = datetime.timedelta(minutes=-30)) -> str:
    """An ISO time with its offset, ``delta`` from now (by default half an hour ago)."""
    return timezone.localtime(timezone.now() + delta).isoformat()


def record(kind: str, *, site, patient=None, person=None, when=None, **fields) -> dict:
    return {"uuid": str(uuid.uuid4()), "kind": kind, "made_at": when or made_at(),
            "site": site.pk, "patient": patient.pk if patient else None, "person": person,
            **fields}


@pytest.fixture
def shelter(db):
    return SiteFactory(name="Shelter Samusocial", kind="shelter")


@pytest.fixture
def team_nurse(db):
    return make_staff(Role.NURSE, username="team_nurse")


@pytest.fixture
def device(team_nurse):
    return OutreachDevice.objects.create(user=team_nurse, name="Team phone")


@pytest.fixture
def nurse_api(client, team_nurse):
    client.force_login(team_nurse)
    return client


def sync(client, device, records):
    response = client.post(reverse("outreach:api_sync"),
                           data=json.dumps({"device": str(device.pk), "records": records}),
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    return response
