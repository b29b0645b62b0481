import json

import pytest
from django.urls import reverse

from mass.models import AuditEvent
from outreach.models import OutreachDevice, SyncedRecord
from patients.models import Visit
from tests.factories import PatientFactory
from tests.outreach.conftest import record, sync

pytestmark = pytest.mark.django_db


def _register(client, body):
    return client.post(reverse("outreach:api_devices"), data=json.dumps(body),
                       content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_device_registers_for_its_user_audited(nurse_api, team_nurse):
    response = _register(nurse_api, {"name": "  Samsung A52   team phone "})

    assert response.status_code == 201
    device = OutreachDevice.objects.get(pk=response.json()["device"])
    assert device.user == team_nurse and device.name == "Samsung A52 team phone"
    assert response.json()["name"] == device.name
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(object_type="outreach.outreachdevice",
                                     object_id=str(device.pk), actor=team_nurse).exists()


def test_device_without_name_is_refused_and_writes_nothing(nurse_api):
    audit = AuditEvent.objects.count()
    response = _register(nurse_api, {"name": "  "})
    assert response.status_code == 400 and "name" in response.json()["error"]
    assert not OutreachDevice.objects.exists() and AuditEvent.objects.count() == audit


def test_device_register_for_reception_is_403(reception_client):
    response = _register(reception_client, {"name": "Desk"})
    assert response.status_code == 403 and not OutreachDevice.objects.exists()


def test_coordinator_lists_devices_and_disables_a_lost_one(coordinator_client, coordinator_user,
                                                          device):
    page = coordinator_client.get(reverse("outreach:devices"), HTTP_ACCEPT_LANGUAGE="en")
    assert device.name in page.content.decode() and "Disable (lost)" in page.content.decode()

    response = coordinator_client.post(reverse("outreach:device_disable", args=[device.pk]))

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.is_disabled and device.disabled_by == coordinator_user
    assert AuditEvent.objects.filter(object_type="outreach.outreachdevice",
                                     object_id=str(device.pk), action="update").exists()


def test_disabling_twice_says_so_and_changes_nothing(coordinator_client, device):
    coordinator_client.post(reverse("outreach:device_disable", args=[device.pk]))
    device.refresh_from_db()
    first = device.disabled_at

    response = coordinator_client.post(reverse("outreach:device_disable", args=[device.pk]),
                                       follow=True, HTTP_ACCEPT_LANGUAGE="en")

    device.refresh_from_db()
    assert device.disabled_at == first
    assert "already disabled" in response.content.decode()


def test_nurse_may_not_disable_a_device(nurse_client, device):
    response = nurse_client.post(reverse("outreach:device_disable", args=[device.pk]))
    assert response.status_code == 403
    device.refresh_from_db()
    assert not device.is_disabled


def test_lost_device_pending_records_are_refused_each_audited(
        nurse_api, team_nurse, device, shelter, coordinator_user):
    from outreach.services import device_disable
    patient = PatientFactory()
    pending = [record("contact", site=shelter, patient=patient),
               record("material", site=shelter, lines=[{"code": "condom", "handed_out": 3}])]
    device_disable(device=device, actor=coordinator_user)
    # The disable ended the owner's sessions; a new login, and the page still has the id.
    team_nurse.refresh_from_db()
    nurse_api.force_login(team_nurse)

    answers = sync(nurse_api, device, pending).json()["results"]

    assert [a["status"] for a in answers] == ["refused", "refused"]
    assert all("Device disabled" in a["reason"] for a in answers)
    assert not Visit.objects.exists() and not SyncedRecord.objects.exists()
    # One row per refused record, as a failed authentication naming the device and record.
    refusals = AuditEvent.objects.filter(object_type="outreach.outreachdevice",
                                         object_id=str(device.pk),
                                         action=AuditEvent.Action.LOGIN_FAILED)
    assert sorted(event.details["uuid"] for event in refusals) == sorted(
        record["uuid"] for record in pending)


def test_records_after_a_disable_during_the_sync_are_refused(
        nurse_api, device, shelter, coordinator_user):
    """The coordinator disables the device while its batch is being received: the records
    after the disable are refused. The disable is made, through its service on the same
    database, right after the first record is written (a hook on the connection, so the
    moment is the same on every run)."""
    from django.db import connection

    from outreach.services import device_disable
    patient = PatientFactory()
    batch = [record("contact", site=shelter, patient=patient, purpose=purpose)
             for purpose in ("social", "consultation", "other")]
    disabled = []

    def disable_after_first_record(execute, sql, params, many, context):
        answer = execute(sql, params, many, context)
        if not disabled and sql.startswith('INSERT INTO "outreach_syncedrecord"'):
            disabled.append(True)
            device_disable(device=device, actor=coordinator_user)
        return answer

    with connection.execute_wrapper(disable_after_first_record):
        answers = sync(nurse_api, device, batch).json()["results"]

    assert [a["status"] for a in answers] == ["accepted", "refused", "refused"]
    assert all("Device disabled" in a["reason"] for a in answers[1:])
    assert [str(u) for u in SyncedRecord.objects.values_list("uuid", flat=True)] == [
        batch[0]["uuid"]]
    assert Visit.objects.filter(patient=patient).count() == 1
    refusals = AuditEvent.objects.filter(object_type="outreach.outreachdevice",
                                         object_id=str(device.pk),
                                         action=AuditEvent.Action.LOGIN_FAILED)
    assert sorted(event.details["uuid"] for event in refusals) == sorted(
        r["uuid"] for r in batch[1:])


def test_lost_device_gets_no_round(nurse_api, team_nurse, device, shelter, coordinator_user):
    from outreach.services import device_disable
    device_disable(device=device, actor=coordinator_user)
    team_nurse.refresh_from_db()  # its sessions ended: a new login
    nurse_api.force_login(team_nurse)

    response = nurse_api.get(reverse("outreach:api_round"),
                             {"site": shelter.pk, "device": str(device.pk)})

    assert response.status_code == 403 and "people" not in response.json()


def test_disabling_a_device_logs_its_owner_out_everywhere(nurse_api, team_nurse, device,
                                                         shelter, coordinator_user):
    """Whoever holds the lost phone holds its session: the disable ends it, so the page
    cannot register the phone again as a new device without a new login."""
    from django.test import Client
    coordinator_client = Client()
    coordinator_client.force_login(coordinator_user)
    coordinator_client.post(reverse("outreach:device_disable", args=[device.pk]))

    response = _register(nurse_api, {"name": "Team phone"})
    round_response = nurse_api.get(reverse("outreach:api_round"),
                                    {"site": shelter.pk, "device": str(device.pk)})

    # Logged out: sent to the login page (the page says so), never a 403, which would make
    # it forget the id and register again.
    for answer in (response, round_response):
        assert answer.status_code == 302 and answer.url.startswith(reverse("login"))
    assert OutreachDevice.objects.filter(user=team_nurse).count() == 1
    # The coordinator who disabled it stays logged in.
    assert coordinator_client.get(reverse("outreach:devices")).status_code == 200


def test_new_device_within_a_round_of_a_disable_is_refused_and_audited(
        client, team_nurse, device, coordinator_user):
    """Even after a new login (the lost phone may keep the password and the authenticator),
    no new device for that member while a round of the lost one could still be held."""
    from outreach.services import device_disable
    device_disable(device=device, actor=coordinator_user)
    team_nurse.refresh_from_db()  # its sessions ended: a new login
    client.force_login(team_nurse)

    response = _register(client, {"name": "Found phone"})

    assert response.status_code == 400 and "disabled" in response.json()["error"]
    assert OutreachDevice.objects.filter(user=team_nurse).count() == 1
    assert AuditEvent.objects.filter(object_type="outreach.outreachdevice",
                                     object_id=str(device.pk), actor=team_nurse,
                                     action=AuditEvent.Action.LOGIN_FAILED).exists()


def test_a_coordinators_password_reset_after_the_disable_ends_the_wait(
        client, team_nurse, device, coordinator_user):
    """The lost phone's holder no longer knows the password a coordinator set after the
    disable: the member registers a new device at once. A reset before the loss, or the
    member's own change (the phone's holder could make it), ends nothing."""
    from django.test import Client

    from mass.services import password_change, staff_set_password
    from outreach.services import device_disable
    staff_set_password(user=team_nurse, password="Earlier-long-pass-42", actor=coordinator_user)
    device_disable(device=device, actor=coordinator_user)
    team_nurse.refresh_from_db()
    password_change(user=team_nurse, password="Own-long-pass-4242", actor=team_nurse)
    client.force_login(team_nurse)
    refused = _register(client, {"name": "Spare phone"})
    assert refused.status_code == 400
    assert "or as soon as a coordinator has reset your password" in refused.json()["error"]

    coordinator = Client()
    coordinator.force_login(coordinator_user)
    assert coordinator.post(f"/staff/{team_nurse.pk}/password/", {
        "new_password1": "Another-long-pass-42",
        "new_password2": "Another-long-pass-42"}).status_code == 302
    team_nurse.refresh_from_db()
    password_change(user=team_nurse, password="Mine-long-pass-4242", actor=team_nurse)
    client.force_login(team_nurse)

    response = _register(client, {"name": "Spare phone"})

    assert response.status_code == 201
    assert list(OutreachDevice.objects.filter(user=team_nurse, disabled_at__isnull=True)
                .values_list("name", flat=True)) == ["Spare phone"]


def test_new_device_after_the_wait_is_registered(client, team_nurse, coordinator_user):
    import datetime

    from django.utils import timezone

    from outreach.services import DISABLED_DEVICE_WAIT
    # A phone lost long ago (written disabled at once: the table takes no backdated update).
    OutreachDevice.objects.create(
        user=team_nurse, name="Lost phone", disabled_by=coordinator_user,
        disabled_at=timezone.now() - DISABLED_DEVICE_WAIT - datetime.timedelta(minutes=1))
    client.force_login(team_nurse)

    response = _register(client, {"name": "New phone"})

    assert response.status_code == 201
    assert OutreachDevice.objects.get(pk=response.json()["device"]).name == "New phone"


def test_device_list_queries_do_not_grow_with_devices(coordinator_client, staff_factory,
                                                     django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mass.accounts.roles import Role

    OutreachDevice.objects.create(user=staff_factory(Role.NURSE), name="One")
    with CaptureQueriesContext(connection) as queries:
        coordinator_client.get(reverse("outreach:devices"))
    one = len(queries)
    for name in ("Two", "Three"):
        OutreachDevice.objects.create(user=staff_factory(Role.DOCTOR), name=name)
    with django_assert_num_queries(one):
        coordinator_client.get(reverse("outreach:devices"))
