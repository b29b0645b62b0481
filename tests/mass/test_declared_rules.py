"""The database's rules are those declared in the models (mass.database.triggers): each installed
once, none switched off by a session, each reading the tables of ``public`` whatever the
session's search path; the clinical constants are formatted into their SQL."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from dispensary.models import Dispensation, Product
from dispensary.rules import HOLD_AFTER_MISSED_DAYS
from dispensary.triggers import dispensation_check
from mass.audit import Action, audit_record
from mass.database.triggers import append_only_tables, installed_name
from mass.models import AuditEvent
from tests.factories import PrescriptionFactory

INSTALLED_RULES = """
SELECT c.relname, t.tgname, p.proconfig FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE NOT t.tgisinternal
"""


def installed_rules():
    with connection.cursor() as cursor:
        cursor.execute(INSTALLED_RULES)
        return cursor.fetchall()


def test_the_hold_threshold_is_formatted_into_the_rule():
    declared = {rule.name: rule.compile(Dispensation) for rule in Dispensation._meta.triggers}
    assert declared["dispensation_check"] == dispensation_check().compile(Dispensation)
    assert f"v_missed >= {HOLD_AFTER_MISSED_DAYS} THEN" in dispensation_check().func
    changed = dispensation_check(hold_after_missed_days=HOLD_AFTER_MISSED_DAYS + 2)
    assert f"v_missed >= {HOLD_AFTER_MISSED_DAYS + 2} THEN" in changed.func
    assert (changed.compile(Dispensation).install_sql
            != dispensation_check().compile(Dispensation).install_sql)


def test_the_rule_in_force_in_the_database_is_the_declared_one(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s",
                       [installed_name(Dispensation, "dispensation_check")])
        (source,) = cursor.fetchone()
    assert f"v_missed >= {HOLD_AFTER_MISSED_DAYS} THEN" in source


def test_every_table_rule_is_declared_once_and_pins_the_search_path(db):
    rules = installed_rules()
    declared = [name for name in (row[1] for row in rules) if name.startswith("pgtrigger_")]
    assert len(declared) == len(set(declared))
    # The triggers written by hand before (e.g. dispensary_dispensation_check) are gone.
    assert [name for name in (row[1] for row in rules) if not name.startswith("pgtrigger_")] \
        == []
    for table, name, config in rules:
        if name.startswith("pgtrigger_"):
            assert config == ["search_path=public, pg_temp"], (table, name)
    append_only = {table for table, name, _config in rules
                   if name.startswith("pgtrigger_append_only_")}
    assert append_only == set(append_only_tables())
    assert {"mass_auditevent", "dispensary_dispensation", "dispensary_registerentry",
            "social_incomerecord", "patients_visitcancellation"} <= append_only


@pytest.mark.database_owner
def test_a_session_cannot_switch_a_rule_off(db):
    # pgtrigger's own functions skip their body for the triggers named in the session
    # variable pgtrigger.ignore, which any role may set; the rules here have no such hook.
    # (As the owner: the application's role is refused earlier, by its privileges.)
    event = audit_record(actor=None, action=Action.LOGIN_FAILED, username="someone")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)",
                       [f"{{{installed_name(AuditEvent, 'append_only')}}}"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    assert AuditEvent.objects.get(pk=event.pk).summary != "rewritten"


@pytest.mark.database_owner
def test_a_temporary_table_does_not_shadow_what_a_rule_reads(db):
    # A session's TEMP tables come first in its own search path: empty copies of the tables
    # the product rule reads would hide that the product is prescribed. The rules read
    # public's tables whatever the session did (their functions pin the path).
    product = Product.objects.get(name="Methadone capsules")
    PrescriptionFactory(product=product)
    with connection.cursor() as cursor:
        for table in ("dispensary_prescription", "dispensary_registerentry"):
            cursor.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table}) ON COMMIT DROP")
    with (pytest.raises(IntegrityError, match="cannot change once it is prescribed"),
          transaction.atomic(), connection.cursor() as cursor):
        cursor.execute("UPDATE dispensary_product SET unit = 'ml' WHERE id = %s", [product.pk])
    assert Product.objects.get(pk=product.pk).unit != "ml"
