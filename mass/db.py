"""PostgreSQL pieces shared by the apps' migrations."""

from django.db import migrations

FORBID_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# Merging two files of one person moves their records to the kept file; on a ledger that
# is the only change allowed: the row must stay identical but for its patient_id.
FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_forbid_change_except_patient() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str, *, allow_patient_reassignment: bool = False) -> migrations.RunSQL:
    """A migration operation that makes the database refuse UPDATE and DELETE on ``table``.

    Rows of such a table are history (audit trail, dispensing ledger, drug register):
    corrections are new rows. TRUNCATE stays possible for the test suite's flush.
    With ``allow_patient_reassignment`` an UPDATE that changes only ``patient_id`` passes,
    so that a merge of two files can move the rows (patients.services.patient_merge).
    """
    trigger = f"{table}_append_only"
    function = ("mass_forbid_change_except_patient" if allow_patient_reassignment
                else "mass_forbid_change")
    return migrations.RunSQL(
        sql=f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )

# The audit trail is append-only too, but for one update per row: the sealer
# (mass.audit_chain) fills chain_position and chain_hash, both empty until then, and changes
# nothing else. A sealed row can never be changed again, not even its hash.
AUDIT_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION mass_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.chain_position IS NULL AND OLD.chain_hash IS NULL
       AND NEW.chain_position IS NOT NULL AND NEW.chain_hash IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash')
           = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
