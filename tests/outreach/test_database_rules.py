"""The database keeps the idempotency keys and the devices' history whatever writes them."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from outreach.models import SyncedRecord
from tests.factories import PatientFactory
from tests.outreach.conftest import record, sync

# The triggers themselves, for a role with every right on the rows (a script run as the
# owner); the application's role is refused earlier still (its grants).
pytestmark = pytest.mark.database_owner


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_idempotency_key_is_never_changed_nor_deleted(nurse_api, device, shelter):
    sync(nurse_api, device, [record("contact", site=shelter, patient=PatientFactory())])
    key = SyncedRecord.objects.get()

    for sql in ("UPDATE outreach_syncedrecord SET kind = 'note' WHERE id = %s",
                "UPDATE outreach_syncedrecord SET uuid = gen_random_uuid() WHERE id = %s",
                "DELETE FROM outreach_syncedrecord WHERE id = %s"):
        with pytest.raises(DatabaseError):
            raw(sql, [key.pk])
    assert SyncedRecord.objects.get().uuid == key.uuid


def test_a_disabled_device_stays_disabled(device, coordinator_user):
    from outreach.services import device_disable
    device_disable(device=device, actor=coordinator_user)

    for sql, params in (
            ("UPDATE outreach_outreachdevice SET disabled_at = NULL, disabled_by_id = NULL "
             "WHERE id = %s", [device.pk]),
            ("UPDATE outreach_outreachdevice SET disabled_at = %s WHERE id = %s",
             [timezone.now(), device.pk]),
            ("UPDATE outreach_outreachdevice SET name = 'found again' WHERE id = %s",
             [device.pk]),
            ("DELETE FROM outreach_outreachdevice WHERE id = %s", [device.pk])):
        with pytest.raises(DatabaseError):
            raw(sql, params)
    device.refresh_from_db()
    assert device.is_disabled and device.name == "Team phone"
