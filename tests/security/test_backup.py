"""Backups (issue 8, item 7): `manage.py backup` then `manage.py restore` into a fresh
database gives back every row of every table, the append-only triggers and the sequences.

These tests commit their rows (pg_dump reads committed data only), so they are
transactional: pytest-django runs them after the others and empties the tables afterwards.
"""

import io
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from mass.accounts.roles import Role
from mass.audit import Action, audit_record
from mass.database import backups
from mass.database.triggers import installed_name
from mass.models import AuditEvent
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory
from tests.security.conftest import enrol

pytestmark = pytest.mark.django_db(transaction=True)


def fingerprint(dbname: str) -> dict:
    """Per table: row count and a digest of all its rows; plus triggers and sequences."""
    with backups.connect(dbname) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        rows = {}
        for table in tables:
            rows[table] = conn.execute(sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), "
                "'')) FROM {} AS t").format(sql.Identifier(table))).fetchone()
        triggers = conn.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal ORDER BY 1, 2").fetchall()
        sequences = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1").fetchall()
        extensions = conn.execute("SELECT extname FROM pg_extension ORDER BY 1").fetchall()
    return {"rows": rows, "triggers": triggers, "sequences": sequences,
            "extensions": extensions}


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    drop(name)
    yield name
    drop(name)


def drop(name: str) -> None:
    with backups.connect("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def some_records(client, staff_factory):
    nurse = staff_factory(Role.NURSE, username="backup_nurse")
    enrol(nurse)  # second-factor tables
    for _ in range(3):
        patient = PatientFactory()
        VisitFactory.create_batch(2, patient=patient)
        EpisodeFactory(patient=patient)
        audit_record(actor=nurse, action=Action.VIEW, patient=patient, summary="file read")
    client.post("/accounts/login/", {"username": "backup_nurse", "password": "wrong-one-123"})
    client.force_login(nurse)  # a session row
    return nurse


def test_restore_into_fresh_database_finds_every_row(client, staff_factory, tmp_path,
                                                     restored_name):
    some_records(client, staff_factory)
    archive = tmp_path / "mass.dump"
    out = io.StringIO()
    call_command("backup", output=str(archive), stdout=out)
    assert "written to" in out.getvalue()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # health data: owner only

    call_command("restore", str(archive), into=restored_name, stdout=io.StringIO())

    source = fingerprint(connection.settings_dict["NAME"])
    restored = fingerprint(restored_name)
    assert restored["rows"] == source["rows"]  # every table: same count, same rows
    assert restored["triggers"] == source["triggers"]  # append-only rules came back
    assert restored["sequences"] == source["sequences"]  # new rows won't collide
    assert restored["extensions"] == source["extensions"]
    filled = {table for table, (count, _) in source["rows"].items() if count}
    assert {"mass_user", "auth_group", "auth_permission", "mass_auditevent", "mass_site",
            "patients_patient", "patients_visit", "patients_episode", "django_session",
            "axes_accessattempt", "otp_totp_totpdevice", "otp_static_statictoken",
            "django_migrations"} <= filled
    assert ("mass_auditevent", installed_name(AuditEvent, "append_only")) in source["triggers"]


def test_restored_database_keeps_refusing_changes_to_history(client, staff_factory, tmp_path,
                                                             restored_name):
    some_records(client, staff_factory)
    archive = tmp_path / "mass.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    call_command("restore", str(archive), into=restored_name, stdout=io.StringIO())
    import psycopg
    with backups.connect(restored_name) as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE mass_auditevent SET summary = 'rewritten'")


def test_restore_replace_puts_the_backup_back(client, staff_factory, tmp_path):
    from patients.models import Patient
    some_records(client, staff_factory)
    archive = tmp_path / "mass.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    before = fingerprint(connection.settings_dict["NAME"])["rows"]
    PatientFactory(alias="Written after the backup")
    call_command("restore", str(archive), replace=True, interactive=False,
                 stdout=io.StringIO())
    assert not Patient.objects.filter(alias="Written after the backup").exists()
    assert fingerprint(connection.settings_dict["NAME"])["rows"] == before


def test_backup_goes_to_backup_dir_by_default(settings, tmp_path, db):
    settings.BACKUP_DIR = tmp_path / "backups"
    call_command("backup", stdout=io.StringIO())
    files = list((tmp_path / "backups").iterdir())
    assert len(files) == 1
    assert files[0].name.startswith(f"mass-{connection.settings_dict['NAME']}-")
    assert files[0].suffix == ".dump"


def test_restore_refuses_a_database_that_is_not_empty(tmp_path, db):
    archive = tmp_path / "mass.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(archive), stdout=io.StringIO())


def test_restore_refuses_an_existing_target(tmp_path, db):
    archive = tmp_path / "mass.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("restore", str(archive), into="postgres", stdout=io.StringIO())


def test_damaged_backup_is_refused_and_leaves_nothing(tmp_path, restored_name, db):
    archive = tmp_path / "mass.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError):
        call_command("restore", str(damaged), into=restored_name, stdout=io.StringIO())
    with backups.connect("postgres") as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                [restored_name]).fetchone()


def test_failed_backup_leaves_no_file(tmp_path, settings, db):
    settings.PG_BIN_DIR = str(tmp_path)  # a pg_dump that fails, found first
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'pg_dump (PostgreSQL) 99.0'"
                    " && exit 0\necho 'disk full' >&2\nexit 1\n")
    fake.chmod(0o755)
    target = tmp_path / "out" / "mass.dump"
    with pytest.raises(CommandError, match="disk full"):
        call_command("backup", output=str(target), stdout=io.StringIO())
    assert list(Path(target.parent).iterdir()) == []


def test_client_programs_are_at_least_as_new_as_the_server(db):
    major = backups.server_major_version()
    for name in ("pg_dump", "pg_restore"):
        assert backups.tool_major_version(backups.find_tool(name, minimum_major=major)) >= major
