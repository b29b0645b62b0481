"""Two database roles (docs/security.md, "Two database roles"): the owner migrates; the
application's role reads and writes rows and can do nothing that erases history: no TRUNCATE,
no trigger off or dropped, no session_replication_role, no ALTER, owns nothing.

The rest of the suite already runs every test with the application's rights
(tests/conftest.py ``_app_database_role``): every feature works with them."""

import psycopg
import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.db import connection
from psycopg import errors

from mass.audit import Action, audit_record
from mass.database.roles import grant_app_privileges, owner_connection
from mass.database.triggers import installed_name
from mass.models import AuditEvent
from patients.services import patient_merge
from tests.factories import DispensationFactory, PatientFactory

# A skip by design: a deployment may give the application one database role (DATABASE_URL
# without MIGRATE_DATABASE_URL); then there is no second role to test. The embedded database
# of `make test` always has both.
pytestmark = pytest.mark.skipif(not settings.MASS_APP_DATABASE_ROLE,
                                reason="one database role configured (no MIGRATE_DATABASE_URL)")

APP = settings.MASS_APP_DATABASE_ROLE
AUDIT_APPEND_ONLY = installed_name(AuditEvent, "append_only")


@pytest.fixture
def as_app(db):
    """A connection of its own, as the application's role, to the test database, in
    autocommit: what a process connected with DATABASE_URL could do."""
    params = connection.get_connection_params()
    with psycopg.connect(dbname=connection.settings_dict["NAME"], user=APP,
                         host=params.get("host"), port=params.get("port"),
                         autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize(("sql", "error"), [
    ("TRUNCATE mass_auditevent", errors.InsufficientPrivilege),
    ("TRUNCATE dispensary_dispensation CASCADE", errors.InsufficientPrivilege),
    ("TRUNCATE patients_patient CASCADE", errors.InsufficientPrivilege),
    (f"ALTER TABLE mass_auditevent DISABLE TRIGGER {AUDIT_APPEND_ONLY}",
     errors.InsufficientPrivilege),
    ("ALTER TABLE mass_auditevent DISABLE TRIGGER ALL", errors.InsufficientPrivilege),
    ("ALTER TABLE dispensary_dispensation DISABLE TRIGGER USER", errors.InsufficientPrivilege),
    (f"DROP TRIGGER {AUDIT_APPEND_ONLY} ON mass_auditevent",
     errors.InsufficientPrivilege),
    ("SET session_replication_role = replica", errors.InsufficientPrivilege),
    ("ALTER TABLE patients_patient ADD COLUMN note text", errors.InsufficientPrivilege),
    ("ALTER TABLE mass_auditevent RENAME TO old_trail", errors.InsufficientPrivilege),
    ("DROP TABLE mass_auditevent", errors.InsufficientPrivilege),
    ("CREATE TABLE trail_copy (id int)", errors.InsufficientPrivilege),
    (("CREATE OR REPLACE FUNCTION mass_forbid_change() RETURNS trigger AS "
      "$$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql"), errors.InsufficientPrivilege),
    ("DELETE FROM mass_auditevent", errors.InsufficientPrivilege),
    ("UPDATE mass_auditevent SET summary = ''", errors.InsufficientPrivilege),
    ("DELETE FROM dispensary_dispensation", errors.InsufficientPrivilege),
    ("UPDATE dispensary_registerentry SET quantity = 0", errors.InsufficientPrivilege),
    ("INSERT INTO django_migrations (app, name, applied) VALUES ('mass', 'x', now())",
     errors.InsufficientPrivilege),
    ("SET ROLE mass_owner", errors.InsufficientPrivilege),
    # A temporary table named like a real one would shadow it inside the check triggers.
    ("CREATE TEMP TABLE dispensary_registerentry (id int)", errors.InsufficientPrivilege),
])
def test_the_application_role_cannot_erase_or_rewrite_history(as_app, sql, error):
    with pytest.raises(error):
        as_app.execute(sql)


def test_the_application_role_is_no_superuser_and_owns_nothing(as_app):
    superuser, createdb, createrole, bypass_rls = as_app.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user").fetchone()
    assert (superuser, createdb, createrole, bypass_rls) == (False, False, False, False)
    owned = as_app.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)").fetchone()[0]
    assert owned == 0
    assert as_app.execute("SELECT datdba <> (SELECT oid FROM pg_roles WHERE rolname = "
                          "current_user) FROM pg_database WHERE datname = current_database()"
                          ).fetchone()[0]


def test_it_writes_the_trail_and_the_ledger_but_changes_only_what_the_rules_allow(as_app):
    # What the application does all day: insert audit rows and doses, seal the chain, move a
    # ledger row to the kept file at a merge.
    assert as_app.execute("SELECT has_table_privilege('mass_auditevent', 'INSERT'), "
                          "has_table_privilege('dispensary_dispensation', 'INSERT'), "
                          "has_column_privilege('mass_auditevent', 'chain_hash', 'UPDATE'), "
                          "has_column_privilege('mass_auditevent', 'summary', 'UPDATE'), "
                          "has_column_privilege('dispensary_dispensation', 'patient_id', "
                          "'UPDATE'), has_column_privilege('dispensary_dispensation', "
                          "'quantity', 'UPDATE'), has_table_privilege('patients_patient', "
                          "'UPDATE')").fetchone() == (True, True, True, False, True, False, True)


def test_the_suite_runs_as_the_application_role(db):
    assert connection.cursor().connection.execute("SELECT current_user").fetchone()[0] == APP


def test_the_application_role_keeps_and_seals_the_trail(db):
    # The sealer (mass.audit.chain) runs in the application's process: its one UPDATE of
    # the chain columns is granted.
    event = audit_record(actor=None, action=Action.LOGIN_FAILED, username="someone")
    call_command("seal_audit", verbosity=0)
    event.refresh_from_db()
    assert event.chain_hash and event.chain_position


def test_dispensing_and_merging_work_with_the_application_rights(db, nurse_user):
    # A merge moves the ledger rows to the kept file (UPDATE of patient_id only).
    dose = DispensationFactory()
    kept = PatientFactory()
    patient_merge(kept=kept, merged=dose.patient, reason="same person", actor=nurse_user)
    dose.refresh_from_db()
    assert dose.patient_id == kept.pk


@pytest.mark.database_owner
def test_grants_follow_a_new_table(db):
    # A migration that adds a table: post_migrate gives the application its rights on it.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE roles_probe (id serial PRIMARY KEY, note text)")
        cursor.execute("CREATE TRIGGER pgtrigger_append_only_probe BEFORE UPDATE OR DELETE ON "
                       "roles_probe FOR EACH ROW EXECUTE FUNCTION mass_forbid_change()")
    append_only = grant_app_privileges(connection, APP)
    assert "roles_probe" in append_only and "mass_auditevent" in append_only
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'roles_probe', 'INSERT'), "
                       "has_table_privilege(%s, 'roles_probe', 'UPDATE'), "
                       "has_table_privilege(%s, 'roles_probe', 'TRUNCATE'), "
                       "has_sequence_privilege(%s, 'roles_probe_id_seq', 'USAGE')",
                       [APP] * 4)
        assert cursor.fetchone() == (True, False, False, True)


@pytest.mark.django_db(transaction=True)
def test_migrate_connects_as_the_owner_the_application_as_its_role():
    # As in production: DATABASE_URL is the application's role; `migrate` (and restore,
    # import_records) switch to MIGRATE_DATABASE_URL's for their run only.
    saved = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = APP
    try:
        assert _current_user() == APP
        with owner_connection():
            assert _current_user() == settings.MASS_OWNER_DATABASE["USER"] != APP
        assert _current_user() == APP
        call_command("migrate", verbosity=0)  # nothing to apply; as the owner, refused if not
        assert _current_user() == APP
    finally:
        connection.close()
        connection.settings_dict["USER"] = saved


def _current_user():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_deploy_check_warns_when_the_application_owns_its_tables(settings):
    from mass.accounts.security import check_database_roles
    # (The test run renamed the database to its own; the owner's settings follow, as in
    # production where both URLs name one database.)
    settings.MASS_OWNER_DATABASE = {**settings.MASS_OWNER_DATABASE,
                                    "NAME": settings.DATABASES["default"]["NAME"]}
    assert check_database_roles(None) == []
    settings.MASS_APP_DATABASE_ROLE = None
    assert [m.id for m in check_database_roles(None)] == ["mass.W004"]
    settings.MASS_OWNER_DATABASE = {**settings.MASS_OWNER_DATABASE, "NAME": "elsewhere"}
    assert [m.id for m in check_database_roles(None)] == ["mass.E002"]
    assert isinstance(check_database_roles(None)[0], checks.Error)


def test_audit_rows_written_in_a_test_are_the_application_role_s(db):
    before = AuditEvent.objects.count()
    audit_record(actor=None, action=Action.LOGIN_FAILED, username="x")
    assert AuditEvent.objects.count() == before + 1


def test_trigger_functions_read_the_schema_s_tables_only(as_app):
    # Even for a role that could create a temporary table, the check triggers read public's.
    unpinned = as_app.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.prorettype = 'trigger'::regtype "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
        "AND d.objid = p.oid AND d.deptype = 'e') "
        "AND (p.proconfig IS NULL OR NOT 'search_path=public, pg_temp' = ANY(p.proconfig))"
    ).fetchall()
    assert unpinned == []


@pytest.mark.database_owner
def test_grants_refuse_to_leave_broader_rights_in_place(db):
    # A database set up by hand, where the application's role owns a table (and so could
    # truncate or alter it): migrate says so plainly instead of going on.
    from django.core.exceptions import ImproperlyConfigured
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {APP}")
        cursor.execute("CREATE TABLE roles_probe_owned (id int)")
        cursor.execute(f"ALTER TABLE roles_probe_owned OWNER TO {APP}")
    with pytest.raises(ImproperlyConfigured, match="owns roles_probe_owned"):
        grant_app_privileges(connection, APP)


def test_audit_rows_cannot_be_hidden_before_the_chain(db):
    # Position 0 or below would escape verify_audit; the database refuses it.
    from django.db import IntegrityError, transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(action=Action.LOGIN_FAILED, username="x", chain_position=0,
                                  chain_hash="0" * 64)
