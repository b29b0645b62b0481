"""The audit trail's hash chain (mass.audit.chain): sealed rows that are later edited or
deleted, even by a database superuser with the trigger disabled, are named by verify_audit;
sealing is idempotent and two sealers at once make one chain."""

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from mass.audit import audit_record
from mass.audit.chain import CHAIN_FIELDS, CHAINED_FIELDS, audit_seal, audit_verify
from mass.database.triggers import installed_name
from mass.models import AuditEvent
from tests.factories import PatientFactory, UserFactory

# Tampering is done as the owner or a superuser would (trigger off); the application's role
# cannot: tests/mass/test_database_roles.py.
pytestmark = pytest.mark.database_owner

Action = AuditEvent.Action
AUDIT_APPEND_ONLY = installed_name(AuditEvent, "append_only")


def write_rows(count):
    actor = UserFactory()
    patient = PatientFactory()
    return [audit_record(actor=actor, action=Action.VIEW, patient=patient,
                         summary=f"opened file, visit {n}", details={"b": n, "a": [n, "x"]})
            for n in range(count)]


def as_superuser(sql, params=()):
    """What someone with the database's owner or superuser rights can do: the trigger off,
    a change, the trigger on again."""
    with connection.cursor() as cursor:
        # The test's own rows still have their foreign keys to check at commit; ALTER TABLE
        # waits for no pending check.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE mass_auditevent DISABLE TRIGGER {AUDIT_APPEND_ONLY}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE mass_auditevent ENABLE TRIGGER {AUDIT_APPEND_ONLY}")


def verify_command():
    """verify_audit's output, or its error (exit status 1 from the command line)."""
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as error:
        return False, str(error)
    return True, out.getvalue()


def chain_state():
    return list(AuditEvent.objects.order_by("id").values_list("id", *CHAIN_FIELDS))


def test_every_field_is_in_the_chain():
    fields = {f.attname for f in AuditEvent._meta.concrete_fields}
    assert fields - set(CHAIN_FIELDS) == set(CHAINED_FIELDS)


@pytest.mark.django_db
def test_sealed_trail_verifies_and_sealing_twice_changes_nothing():
    rows = write_rows(5)
    assert audit_seal(batch_size=2) == 5  # three batches
    sealed = chain_state()
    assert [position for _, position, _ in sealed] == [1, 2, 3, 4, 5]
    assert len({chain_hash for *_, chain_hash in sealed}) == 5

    assert audit_seal() == 0
    assert chain_state() == sealed

    intact, output = verify_command()
    assert intact, output
    assert f"5 sealed row(s), last row {rows[-1].id}" in output
    assert "0 row(s) not yet sealed" in output


@pytest.mark.django_db
def test_unsealed_rows_are_counted_not_a_break():
    write_rows(3)
    audit_seal()
    write_rows(2)
    report = audit_verify()
    assert report.first_break is None
    assert (report.sealed, report.unsealed) == (3, 2)
    intact, output = verify_command()
    assert intact and "2 row(s) not yet sealed" in output


@pytest.mark.django_db
def test_verify_can_seal_first():
    write_rows(2)
    out = StringIO()
    call_command("verify_audit", "--seal", stdout=out)
    assert "2 audit row(s) sealed" in out.getvalue()
    assert "0 row(s) not yet sealed" in out.getvalue()
    assert not AuditEvent.objects.filter(chain_hash__isnull=True).exists()


@pytest.mark.django_db
def test_row_edited_by_a_superuser_is_named():
    rows = write_rows(4)
    audit_seal()
    edited = rows[2]
    as_superuser("UPDATE mass_auditevent SET summary = 'nothing to see' WHERE id = %s",
                 [edited.id])

    report = audit_verify()
    assert (report.first_break.row_id, report.first_break.position) == (edited.id, 3)
    assert report.sealed == 2
    intact, message = verify_command()
    assert not intact
    assert f"position 3 (row {edited.id}): hash mismatch" in message


@pytest.mark.django_db
def test_details_edited_are_detected_but_key_order_is_not_a_change():
    rows = write_rows(2)
    audit_seal()
    # jsonb keeps no key order: the same object written the other way round is no change.
    as_superuser("""UPDATE mass_auditevent SET details = '{"a": [0, "x"], "b": 0}'::jsonb
                    WHERE id = %s""", [rows[0].id])
    assert audit_verify().first_break is None
    as_superuser("""UPDATE mass_auditevent SET details = '{"a": [0, "y"], "b": 0}'::jsonb
                    WHERE id = %s""", [rows[0].id])
    assert audit_verify().first_break.row_id == rows[0].id


@pytest.mark.django_db
def test_parameters_written_into_a_row_without_a_code_are_detected():
    # A row written without a summary code has no parameters; any put there later is a change.
    rows = write_rows(2)
    audit_seal()
    as_superuser("""UPDATE mass_auditevent SET summary_params = '{"forged": 1}'::jsonb
                    WHERE id = %s""", [rows[1].id])
    assert audit_verify().first_break.row_id == rows[1].id


@pytest.mark.django_db
def test_deleted_row_is_named():
    rows = write_rows(4)
    audit_seal()
    as_superuser("DELETE FROM mass_auditevent WHERE id = %s", [rows[1].id])

    report = audit_verify()
    assert report.first_break.position == 2
    intact, message = verify_command()
    assert not intact
    assert f"row(s) missing: the next sealed row is row {rows[2].id} at position 3" in message


@pytest.mark.django_db
def test_deleted_row_with_positions_renumbered_is_named():
    rows = write_rows(4)
    audit_seal()
    as_superuser("DELETE FROM mass_auditevent WHERE id = %s", [rows[1].id])
    as_superuser("UPDATE mass_auditevent SET chain_position = chain_position - 1 "
                 "WHERE chain_position > 2")

    report = audit_verify()
    # The row after the deleted one was chained to the deleted row's id and hash.
    assert (report.first_break.row_id, report.first_break.position) == (rows[2].id, 2)


@pytest.mark.django_db
def test_rewritten_chain_is_caught_by_the_digest_kept_outside():
    rows = write_rows(3)
    audit_seal()
    out = StringIO()
    call_command("audit_digest", stdout=out)
    digest = json.loads(out.getvalue())
    assert (digest["last_id"], digest["count"]) == (rows[-1].id, 3)
    assert digest["hash"] == AuditEvent.objects.get(id=rows[-1].id).chain_hash
    expect = f"{digest['last_id']}:{digest['hash']}"
    call_command("verify_audit", "--expect", expect, stdout=StringIO())

    # A superuser edits a row and reseals everything: the chain holds again in itself...
    as_superuser("UPDATE mass_auditevent SET summary = 'nothing to see', chain_hash = NULL, "
                 "chain_position = NULL")
    audit_seal()
    assert audit_verify().first_break is None
    # ...but no longer holds the hash printed yesterday.
    with pytest.raises(CommandError, match=f"no longer holds row {rows[-1].id}"):
        call_command("verify_audit", "--expect", expect, stdout=StringIO())


@pytest.mark.django_db
def test_digest_of_a_date_and_bad_input():
    write_rows(2)
    audit_seal()
    out = StringIO()
    call_command("audit_digest", "--date", "2000-01-01", stdout=out)
    assert json.loads(out.getvalue())["count"] == 0
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit_digest", "--date", "yesterday")
    with pytest.raises(CommandError, match="ID:HASH"):
        call_command("verify_audit", "--expect", "12")


@pytest.mark.django_db
def test_row_committed_late_is_sealed_at_the_end_of_the_chain():
    """A long transaction took a lower id than rows sealed meanwhile: its row is chained after
    them (the chain follows sealing order), and the gap in ids is no break."""
    first = write_rows(1)[0]
    late_id = first.id + 1
    AuditEvent.objects.create(id=first.id + 5, action=Action.LOGIN, username="early")
    audit_seal()
    AuditEvent.objects.create(id=late_id, action=Action.LOGIN, username="late")
    assert audit_seal() == 1
    assert AuditEvent.objects.get(id=late_id).chain_position == 3
    assert audit_verify().first_break is None


# --- the trigger -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_database_allows_sealing_once_and_nothing_else():
    event = write_rows(1)[0]
    rows = AuditEvent.objects.filter(pk=event.pk)
    # Sealing with another change on the side is refused.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(chain_position=1, chain_hash="a" * 64, summary="rewritten")
    # Half a seal is refused.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(chain_hash="a" * 64)
    audit_seal()
    sealed_hash = rows.get().chain_hash
    # A sealed row's hash or place cannot change, nor be emptied to seal it again.
    for change in ({"chain_hash": "b" * 64}, {"chain_position": 7},
                   {"chain_hash": None, "chain_position": None}):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            rows.update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.delete()
    assert rows.get().chain_hash == sealed_hash and rows.get().summary == event.summary


# --- two sealers at once ---------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_make_one_chain():
    write_rows(30)
    barrier = threading.Barrier(2)
    results = [None, None]

    def seal(index):
        try:
            barrier.wait()
            results[index] = audit_seal(batch_size=7)
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=seal, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()

    assert sorted(results) == [0, 30], results
    assert sorted(AuditEvent.objects.values_list("chain_position", flat=True)) == list(
        range(1, 31))
    assert audit_verify().first_break is None


@pytest.mark.django_db
def test_seal_command_says_how_many_unless_quiet():
    write_rows(2)
    out = StringIO()
    call_command("seal_audit", stdout=out)
    assert out.getvalue() == "2 audit row(s) sealed.\n"
    write_rows(1)
    quiet = StringIO()
    call_command("seal_audit", verbosity=0, stdout=quiet)
    assert quiet.getvalue() == ""
    assert not AuditEvent.objects.filter(chain_hash__isnull=True).exists()
